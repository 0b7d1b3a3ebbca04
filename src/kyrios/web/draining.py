"""An HTTP/1.1 protocol for uvicorn whose retiring worker serves the request a client already sent.

A stopping uvicorn worker stops accepting, lets requests in progress finish, and closes every other
connection at once: also one it accepted a moment ago whose request is still in flight, and an idle
keep-alive connection a client is reusing right now. Those requests are lost (the client reads
"disconnected without a response"), which a SIGHUP restart under load would show. Here such a
connection stays open: a request that arrives on it is served with `Connection: close`, and one
that stays silent for the keep-alive timeout is closed as usual. uvicorn's shutdown waits for
open connections (up to `timeout_graceful_shutdown`), so nothing is cut off.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class DrainingHttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that, at shutdown, serves a connection's next request before closing it."""

    retiring = False

    def shutdown(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            super().shutdown()  # a request in progress: answered with Connection: close
            return
        self.retiring = True
        if self.timeout_keep_alive_task is None:  # a new connection: no keep-alive timer armed yet
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.retiring and self.cycle is not None:
            self.cycle.keep_alive = False  # the answer says Connection: close, then the socket closes
