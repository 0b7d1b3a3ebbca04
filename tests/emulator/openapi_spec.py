"""Discord's published OpenAPI description (tests/data/discord-openapi) as a validator of HTTP traffic.

`DiscordSpec.load()` finds the operation of a concrete request (`GET /users/@me` matches the `@me` path
before `{user_id}`), and validates a request body against its `requestBody` schema and a response body
(and the rate-limit headers) against the response declared for its status, with `jsonschema` Draft
2020-12 and `$ref`s resolved inside the same document.

Answers are held to closed objects: a key the schema does not declare is an error, because the
emulator must not invent fields Discord never sends. Unions the spec writes as `anyOf` (marked
`x-discord-union: oneOf`, "one of" in Discord's words) stay `anyOf`: with closed branches the value
matches the branch of its own type, and partial request shapes that overlap are not refused, as
Discord does not refuse them.

The spec is a generated preview. Where it is known to disagree with what Discord sends or accepts, the
difference is allowed in exactly one place, `SPEC_QUIRKS`: each entry patches one location, for the
request or the response side, and says why. Nothing else loosens the check.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).parents[1] / "data" / "discord-openapi" / "openapi.json"
SPEC_URI = "urn:discord:openapi"
ALL_OF_BRANCH = re.compile(r"/allOf/\d+$")


@dataclass(frozen=True)
class SpecQuirk:
    """One known error of the spec: `patch` replaces keys of the node at `pointer` (a JSON pointer),
    for validating requests, responses or both."""

    pointer: str
    patch: Mapping[str, Any]
    reason: str
    side: Literal["request", "response", "both"] = "both"


_PERMISSIONS_TEXT = {"type": ["integer", "string", "null"], "pattern": r"^[0-9]+$"}
_PERMISSIONS_REASON = (
    "Discord documents permission bit sets as strings (they outgrow 53 bits) and discord.py sends "
    "strings; the spec types these int-parseable strings as integers, a quirk its README names."
)
_OVERWRITE_PUT = "/paths/~1channels~1{channel_id}~1permissions~1{overwrite_id}/put"
_BAN = "/paths/~1guilds~1{guild_id}~1bans~1{user_id}"
_EMPTY_BODY_REASON = (
    "The spec marks this body required although its schema requires nothing; Discord accepts the "
    "request without a body, and discord.py sends none (ban takes query parameters, unban nothing)."
)

SPEC_QUIRKS: tuple[SpecQuirk, ...] = (
    SpecQuirk(
        "/components/schemas/PrivateApplicationResponse/properties",
        {"summary": {"type": "string", "const": ""}},
        "Discord's documentation lists the application's `summary` as deprecated, an empty string until "
        "API v11, and discord.py's AppInfo requires it; the spec has already dropped it.",
        side="response",
    ),
    SpecQuirk(
        "/components/schemas/SnowflakeType",
        {"type": ["string", "integer"], "minimum": 0},
        "Discord reads a snowflake in a request body from a JSON string or a JSON integer, and discord.py "
        "sends integers (recipient_id, parent_id, overwrite and role ids, bulk-delete ids); its answers "
        "always carry strings, so responses keep the spec's string type.",
        side="request",
    ),
    SpecQuirk(
        "/components/schemas/ApplicationCommandUpdateRequest/properties/default_member_permissions",
        {**_PERMISSIONS_TEXT, "maximum": 18014398509481983},
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        "/components/schemas/ChannelPermissionOverwriteRequest/properties/allow",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        "/components/schemas/ChannelPermissionOverwriteRequest/properties/deny",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        f"{_OVERWRITE_PUT}/requestBody/content/application~1json/schema/properties/allow",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        f"{_OVERWRITE_PUT}/requestBody/content/application~1json/schema/properties/deny",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        "/components/schemas/CreateRoleRequest/properties/permissions",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(
        "/components/schemas/UpdateRoleRequestPartial/properties/permissions",
        _PERMISSIONS_TEXT,
        _PERMISSIONS_REASON,
        side="request",
    ),
    SpecQuirk(f"{_BAN}/put/requestBody", {"required": False}, _EMPTY_BODY_REASON, side="request"),
    SpecQuirk(f"{_BAN}/delete/requestBody", {"required": False}, _EMPTY_BODY_REASON, side="request"),
)


def _pointer_parts(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def resolve(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer (KeyError when it is not there)."""
    node = document
    for part in _pointer_parts(pointer):
        node = node[part]
    return node


def _with_quirks(spec: dict[str, Any], side: str) -> dict[str, Any]:
    patched = copy.deepcopy(spec)
    for quirk in SPEC_QUIRKS:
        if quirk.side in (side, "both"):
            resolve(patched, quirk.pointer).update(quirk.patch)  # KeyError: the quirk is gone, drop it
    if side == "response":
        _close_objects(patched)
    return patched


def _close_objects(spec: dict[str, Any]) -> None:
    """Answers may carry no key their schema does not declare: the emulator must not invent fields
    (a REST message with a `member`, say) that Discord never sends. Object schemas get
    `additionalProperties: false`; one combined with `allOf` gets `unevaluatedProperties: false` on the
    combination instead, and the schemas it combines stay open."""
    combined: set[str] = set()

    def find_combined(node: Any) -> None:
        if isinstance(node, dict):
            combined.update(str(b["$ref"]) for b in node.get("allOf", ()) if "$ref" in b)
            for value in node.values():
                find_combined(value)
        elif isinstance(node, list):
            for value in node:
                find_combined(value)

    def close(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            if "allOf" in node and any("$ref" in b or "properties" in b for b in node["allOf"]):
                node.setdefault("unevaluatedProperties", False)
            elif "properties" in node and f"#{pointer}" not in combined and not ALL_OF_BRANCH.search(pointer):
                node.setdefault("additionalProperties", False)
            for key, value in node.items():
                close(value, f"{pointer}/{_escape(key)}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                close(value, f"{pointer}/{index}")

    find_combined(spec)
    close(spec, "")


@dataclass(frozen=True)
class Operation:
    """One (method, path template) of the spec."""

    method: str
    template: str
    data: Mapping[str, Any]

    @property
    def pointer(self) -> str:
        """The JSON pointer of this operation in the spec."""
        return f"/paths/{_escape(self.template)}/{self.method.lower()}"


class DiscordSpec:
    """The vendored spec: one copy with the request-side quirks, one with the response-side ones."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._documents = {side: _with_quirks(spec, side) for side in ("request", "response")}
        self._registries: dict[str, Registry[Any]] = {
            side: Registry().with_resource(
                SPEC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
            )
            for side, document in self._documents.items()
        }
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        self._templates = [
            (template, _template_regex(template), _literal_weight(template)) for template in spec["paths"]
        ]

    @staticmethod
    @functools.cache
    def raw() -> dict[str, Any]:
        """The vendored file as Discord published it (read once per process; do not change it)."""
        loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
        return loaded

    @classmethod
    @functools.cache
    def load(cls) -> DiscordSpec:
        """The validator over the vendored spec (built once per process)."""
        return cls(cls.raw())

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving a concrete API path (relative to `/api/v10`), literals preferred."""
        matches = [(weight, t) for t, regex, weight in self._templates if regex.fullmatch(path)]
        for _, template in sorted(matches, reverse=True):
            data = self.spec["paths"][template].get(method.lower())
            if data is not None:
                return Operation(method.upper(), template, data)
        return None

    def request_errors(self, operation: Operation, body: Any) -> list[str]:
        """Where a request body breaks the operation's `requestBody` schema."""
        request = resolve(self._documents["request"], operation.pointer).get("requestBody")
        if request is None:
            return [] if body is None else [f"{operation.method} {operation.template} takes no body"]
        content = request["content"]
        media = next((m for m in ("application/json", "multipart/form-data") if m in content), None)
        if media is None:
            return []
        if body is None:
            return ["body required"] if request.get("required") else []
        return self.errors_at(
            "request", f"{operation.pointer}/requestBody/content/{_escape(media)}/schema", body
        )

    def response_errors(
        self, operation: Operation, status: int, body: Any, headers: Mapping[str, str]
    ) -> list[str]:
        """Where a response breaks what its operation declares for the status (body, rate-limit headers)."""
        declared = self._response(operation, status)
        if declared is None:
            return [f"status {status} is not declared"]
        pointer, response = declared
        errors = _header_errors(response.get("headers", {}), headers, self.spec)
        if not response.get("content"):
            return errors + (["expected no body"] if body is not None else [])
        if body is None:
            return [*errors, "expected a JSON body"]
        return errors + self.errors_at("response", f"{pointer}/content/application~1json/schema", body)

    def errors_at(self, side: str, pointer: str, value: Any) -> list[str]:
        """Validation errors of `value` against the schema at a JSON pointer of the spec, each reduced
        to its most relevant cause (inside `oneOf`/`anyOf`, the branch that came closest)."""
        validator = self._validators.get((side, pointer))
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{pointer}"}
            validator = Draft202012Validator(schema, registry=self._registries[side])
            self._validators[(side, pointer)] = validator
        errors = []
        for error in validator.iter_errors(value):
            cause = best_match([error])
            where = "/".join(str(p) for p in cause.absolute_path) or "$"
            errors.append(f"{where}: {cause.message[:300]}")
        return sorted(errors)

    def _response(self, operation: Operation, status: int) -> tuple[str, Mapping[str, Any]] | None:
        responses = operation.data.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                pointer = f"{operation.pointer}/responses/{key}"
                node = responses[key]
                while "$ref" in node:
                    pointer = str(node["$ref"]).removeprefix("#")
                    node = resolve(self.spec, pointer)
                return pointer, node
        return None


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _literal_weight(template: str) -> tuple[bool, ...]:
    """Literal segments outrank parameters, position by position (`/users/@me` before `/users/{id}`)."""
    return tuple(not segment.startswith("{") for segment in template.split("/"))


def _header_errors(
    declared: Mapping[str, Any], headers: Mapping[str, str], spec: Mapping[str, Any]
) -> list[str]:
    """Discord sends every rate-limit header its responses declare; each must parse as its type."""
    present = {name.lower(): value for name, value in headers.items()}
    errors = []
    for name, ref in declared.items():
        header = resolve(spec, str(ref["$ref"]).removeprefix("#")) if "$ref" in ref else ref
        value = present.get(name.lower())
        if value is None:
            errors.append(f"header {name} missing")
            continue
        kind = header.get("schema", {}).get("type")
        try:
            if kind == "integer":
                int(value)
            elif kind == "number":
                float(value)
        except ValueError:
            errors.append(f"header {name}: {value!r} is not a {kind}")
    return errors
