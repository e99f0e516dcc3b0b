"""Safe by default: loopback only unless asked, a token off loopback, and no request that writes."""
from __future__ import annotations

import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qs

__all__ = ["is_loopback", "new_token", "ReadOnlyTokenMiddleware", "TOKEN_COOKIE"]

TOKEN_COOKIE = "nas_dashboard_token"
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ReadOnlyTokenMiddleware:
    """Refuses every method but GET and HEAD (405); with a token, refuses requests without it (401).

    The token comes as ``Authorization: Bearer <token>``, the ``nas_dashboard_token``
    cookie, or ``?token=`` in the URL (which also sets the cookie, so the page's own
    requests carry it). Comparison is constant-time (``hmac.compare_digest``).
    """

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    def _given(self, scope: Scope) -> tuple[bytes | None, bool]:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer ":
            return auth[7:].strip(), False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0].encode(), True
        cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        if TOKEN_COOKIE in cookie:
            return cookie[TOKEN_COOKIE].value.encode(), False
        return None, False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, b"the dashboard is read-only: only GET and HEAD requests are served",
                         [(b"allow", b"GET, HEAD")])
            return
        set_cookie = False
        if self.token is not None:
            given, from_query = self._given(scope)
            if given is None or not hmac.compare_digest(given, self.token):
                await _plain(send, 401, b"this dashboard needs its token: open the URL `nas dashboard` printed "
                                        b"(it ends in ?token=...), or send 'Authorization: Bearer <token>'")
                return
            set_cookie = from_query

        async def send_with_cookie(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and set_cookie:
                cookie = f"{TOKEN_COOKIE}={self.token.decode()}; Path=/; HttpOnly; SameSite=Strict"  # type: ignore[union-attr]
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _plain(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
