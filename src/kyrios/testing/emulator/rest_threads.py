"""Thread routes: start (from a message or not), members, active and archived lists, edit and delete."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from kyrios.testing.emulator.models import AuditAction, ChannelType, Json
from kyrios.testing.emulator.rest import Handler, json_response, no_content
from kyrios.testing.emulator.rest_channels import ChannelRoutes
from kyrios.testing.emulator.state import ApiError
from kyrios.testing.emulator.threads import ARCHIVE_DURATIONS, Thread

MAX_THREAD_NAME = 100


class ThreadRoutes(ChannelRoutes):
    """Threads; `PATCH`/`DELETE /channels/{id}` go here first and to `ChannelRoutes` for other channels."""

    def thread_routes(self) -> list[tuple[str, str, Handler]]:
        """The (method, path, handler) rows of this group."""
        channel = "/channels/{channel_id:\\d+}"
        members = f"{channel}/thread-members"
        return [
            ("POST", f"{channel}/messages/{{message_id:\\d+}}/threads", self.start_thread_from_message),
            ("POST", f"{channel}/threads", self.start_thread),
            ("GET", f"{channel}/threads/archived/public", self.archived_threads),
            ("GET", f"{channel}/threads/archived/private", self.archived_private_threads),
            ("GET", f"{channel}/users/@me/threads/archived/private", self.joined_archived_threads),
            ("GET", "/guilds/{guild_id:\\d+}/threads/active", self.active_threads),
            ("GET", members, self.list_thread_members),
            ("PUT", f"{members}/@me", self.join_thread),
            ("DELETE", f"{members}/@me", self.leave_thread),
            ("GET", f"{members}/{{user_id:\\d+}}", self.get_thread_member),
            ("PUT", f"{members}/{{user_id:\\d+}}", self.add_thread_member),
            ("DELETE", f"{members}/{{user_id:\\d+}}", self.remove_thread_member),
        ]

    def _thread(self, request: web.Request, *permissions: str) -> Thread:
        thread = self.emu.thread(self.snowflake_arg(request, "channel_id"))
        self.emu.require(thread.guild_id, *permissions, channel_id=thread.id)
        return thread

    def _is_thread(self, request: web.Request) -> bool:
        channel_id = self.snowflake_arg(request, "channel_id")
        return any(channel_id in guild.threads for guild in self.emu.guilds.values())

    @staticmethod
    def _thread_fields(body: Json) -> tuple[str, int]:
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= MAX_THREAD_NAME:
            raise ApiError(400, 50035, "Invalid Form Body (name: Must be between 1 and 100 in length.)")
        duration = int(body.get("auto_archive_duration") or 1440)
        if duration not in ARCHIVE_DURATIONS:
            raise ApiError(400, 50035, "Invalid Form Body (auto_archive_duration: not 60, 1440, 4320, 10080)")
        return name, duration

    async def start_thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{message_id}/threads: a public thread with the message's id."""
        channel = self._channel(request, "create_public_threads", "read_message_history")
        name, duration = self._thread_fields(self.body(request))
        message_id = self.snowflake_arg(request, "message_id")
        thread = await self.emu.start_thread(
            channel.id, name, self.emu.bot_user.id, message_id=message_id, auto_archive_duration=duration
        )
        await self._log_thread(AuditAction.THREAD_CREATE, thread, request)
        return json_response(thread.to_json(), 201)

    async def start_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads {name, type (11 public, 12 private: Discord's default), invitable}."""
        body = self.body(request)
        kind = ChannelType(int(body.get("type") or ChannelType.PRIVATE_THREAD))
        if kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
            raise ApiError(400, 50035, "Invalid Form Body (type: a thread type)")
        needed = "create_public_threads" if kind == ChannelType.PUBLIC_THREAD else "create_private_threads"
        channel = self._channel(request, needed)
        name, duration = self._thread_fields(body)
        invitable = bool(body.get("invitable", True))
        thread = await self.emu.start_thread(
            channel.id,
            name,
            self.emu.bot_user.id,
            type=kind,
            auto_archive_duration=duration,
            invitable=invitable,
        )
        await self._log_thread(AuditAction.THREAD_CREATE, thread, request)
        return json_response(thread.to_json(), 201)

    async def _log_thread(self, action: AuditAction, thread: Thread, request: web.Request) -> None:
        await self.emu.add_audit_entry(
            thread.guild_id, action, self.emu.bot_user.id, thread.id, reason=self.reason(request)
        )

    async def active_threads(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/threads/active: unarchived threads and the bot's memberships of them."""
        guild = self.emu.guild(self.snowflake_arg(request, "guild_id"))
        threads = [t for t in guild.threads.values() if not t.archived]
        return json_response(self._listing(threads, has_more=False))

    async def archived_threads(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/threads/archived/public?before (ISO time)&limit: newest archived first."""
        return self._archived(request, ChannelType.PUBLIC_THREAD, "read_message_history")

    async def archived_private_threads(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/threads/archived/private?before&limit: needs Manage Threads."""
        return self._archived(request, ChannelType.PRIVATE_THREAD, "read_message_history", "manage_threads")

    async def joined_archived_threads(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/users/@me/threads/archived/private?before (a thread id)&limit: the archived
        private threads the bot is in, highest id first."""
        channel = self._channel(request, "read_message_history")
        bot = self.emu.bot_user.id
        threads = [
            t
            for t in self.emu.guild(channel.guild_id).threads.values()
            if t.parent_id == channel.id and t.archived and t.type == ChannelType.PRIVATE_THREAD
            if bot in t.members and t.id < int(request.query.get("before", 1 << 63))
        ]
        threads.sort(key=lambda t: t.id, reverse=True)
        limit = max(1, min(int(request.query.get("limit", 50)), 100))
        return json_response(self._listing(threads[:limit], has_more=len(threads) > limit))

    def _archived(self, request: web.Request, kind: ChannelType, *permissions: str) -> web.Response:
        channel = self._channel(request, *permissions)
        threads = [
            t
            for t in self.emu.guild(channel.guild_id).threads.values()
            if t.parent_id == channel.id and t.archived and t.type == kind
        ]
        threads.sort(key=lambda t: t.archive_timestamp or t.created_at, reverse=True)
        if "before" in request.query:
            before = datetime.fromisoformat(request.query["before"])
            threads = [t for t in threads if (t.archive_timestamp or t.created_at) < before]
        limit = max(1, min(int(request.query.get("limit", 50)), 100))
        return json_response(self._listing(threads[:limit], has_more=len(threads) > limit))

    def _listing(self, threads: list[Thread], *, has_more: bool) -> Json:
        bot = self.emu.bot_user.id
        members = [t.member_json(bot) for t in threads if bot in t.members]
        return {"threads": [t.to_json() for t in threads], "members": members, "has_more": has_more}

    async def list_thread_members(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/thread-members."""
        thread = self._thread(request)
        return json_response([thread.member_json(u) for u in sorted(thread.members)])

    async def get_thread_member(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/thread-members/{user_id} (404 Unknown Member when not in the thread)."""
        thread = self._thread(request)
        user_id = self.snowflake_arg(request, "user_id")
        if user_id not in thread.members:
            raise ApiError(404, 10007, "Unknown Member")
        return json_response(thread.member_json(user_id))

    async def join_thread(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/thread-members/@me."""
        thread = self._thread(request)
        await self.emu.join_thread(thread.id, self.emu.bot_user.id)
        return no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/thread-members/@me."""
        thread = self._thread(request)
        await self.emu.leave_thread(thread.id, self.emu.bot_user.id)
        return no_content()

    async def add_thread_member(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/thread-members/{user_id}: needs Send Messages in Threads (the bot must be
        in a private thread, or hold Manage Threads)."""
        thread = self._thread(request, "send_messages_in_threads")
        if thread.type == ChannelType.PRIVATE_THREAD and self.emu.bot_user.id not in thread.members:
            self.emu.require(thread.guild_id, "manage_threads", channel_id=thread.id)
        await self.emu.join_thread(thread.id, self.snowflake_arg(request, "user_id"))
        return no_content()

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/thread-members/{user_id}: needs Manage Threads, or owning the private
        thread; an archived thread refuses (50083)."""
        thread = self._thread(request)
        if not (thread.type == ChannelType.PRIVATE_THREAD and thread.owner_id == self.emu.bot_user.id):
            self.emu.require(thread.guild_id, "manage_threads", channel_id=thread.id)
        if thread.archived:
            raise ApiError(400, 50083, "Thread is archived")
        await self.emu.leave_thread(thread.id, self.snowflake_arg(request, "user_id"))
        return no_content()

    # POST /channels/{id}/messages, PATCH and DELETE /channels/{id}: threads first, then other channels -

    async def create_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages; in a thread it needs Send Messages in Threads, unarchives an
        archived thread (THREAD_UPDATE) unless it is locked (400 50083), and counts the message."""
        if not self._is_thread(request):
            return await super().create_message(request)
        thread = self._thread(request, "send_messages_in_threads")
        await self.emu.before_thread_message(thread)
        response = await super().create_message(request)
        thread.message_count += 1
        thread.total_message_sent += 1
        return response

    async def edit_channel_or_thread(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}: a thread (name, archived, locked, auto_archive_duration,
        rate_limit_per_user, invitable) or any other channel (`ChannelRoutes.edit_channel`)."""
        if not self._is_thread(request):
            return await self.edit_channel(request)
        thread = self._thread(request)
        body = self.body(request)
        owner = thread.owner_id == self.emu.bot_user.id
        if not owner or "locked" in body or (thread.locked and body.get("archived") is False):
            self.emu.require(thread.guild_id, "manage_threads", channel_id=thread.id)
        if "name" in body:
            self._thread_fields({**body, "auto_archive_duration": None})
        if body.get("auto_archive_duration") is not None:
            self._thread_fields({"name": thread.name, **body})
        await self._log_thread(AuditAction.THREAD_UPDATE, thread, request)
        await self.emu.update_thread(
            thread.id,
            name=body.get("name"),
            archived=body.get("archived"),
            locked=body.get("locked"),
            auto_archive_duration=body.get("auto_archive_duration"),
            rate_limit_per_user=body.get("rate_limit_per_user"),
            invitable=body.get("invitable"),
        )
        return json_response(thread.to_json())

    async def delete_channel_or_thread(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}: a thread (Manage Threads; THREAD_DELETE) or another channel."""
        if not self._is_thread(request):
            return await self.delete_channel(request)
        thread = self._thread(request, "manage_threads")
        await self._log_thread(AuditAction.THREAD_DELETE, thread, request)
        return json_response(await self.emu.delete_thread(thread.id))
