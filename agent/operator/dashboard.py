"""The web dashboard (``rebalancer serve``): a Starlette app over the journal.

Reading needs nothing (it listens on 127.0.0.1 by default); every action needs the token. Actions are POST only
and CSRF-safe: either ``Authorization: Bearer TOKEN`` (scripts; browsers never add it by themselves), or the
session cookie set by signing in (HttpOnly, SameSite=Strict) *and* the page's CSRF token *and* an Origin (or
Referer) naming this very host. Hosts other than the configured one and loopback are refused (DNS rebinding).
The token is never logged and never put in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator import charts, pages, views
from agent.operator.approvals import decide

log = logging.getLogger(__name__)
COOKIE = "rb_session"


class Auth:
    """The token and what is derived from it (session cookie value, CSRF token); compared in constant time."""

    def __init__(self, token: str) -> None:
        if len(token) < 16:
            raise ConfigError("DASHBOARD_TOKEN: at least 16 characters; unset it to have `serve` generate one")
        self._token = token.encode()
        self.session = self._derive("session")
        self.csrf = self._derive("csrf")

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._token, purpose.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token)

    def signed_in(self, request: Request) -> bool:
        return hmac.compare_digest(request.cookies.get(COOKIE, ""), self.session)


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.netloc.lower() == request.headers.get("host", "").lower()


async def form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def refused(why: str, status: int = 403) -> HTMLResponse:
    msg = f'<p class="msg err" id="refused">refused: {pages.e(why)}</p><p><a href="/login">sign in</a></p>'
    return HTMLResponse(pages.layout("Refused", msg, path="", authed=False, csrf=""), status_code=status)


class Dashboard:
    """The dashboard's pages (reading needs nothing) and actions (they need the token) over one journal."""

    def __init__(self, journal: JournalStore, auth: Auth, health: Callable[[], dict[str, Any]] | None) -> None:
        self.journal, self.auth, self.health = journal, auth, health

    def routes(self) -> list[Route]:
        return [Route("/", self.overview), Route("/drift", self.drift), Route("/approvals", self.approvals),
                Route("/approvals/{aid}/{verb:str}", self.act, methods=["POST"]), Route("/trades", self.trades),
                Route("/execution", self.execution), Route("/journal", self.journal_page),
                Route("/tx/{tx_hash}", self.tx), Route("/login", self.login_form, methods=["GET"]),
                Route("/login", self.login, methods=["POST"]), Route("/logout", self.logout, methods=["POST"]),
                Route("/healthz", self.healthz), Route("/static/plotly.min.js", self.plotly_js)]

    def page(self, request: Request, title: str, body: str, message: str = "") -> HTMLResponse:
        authed = self.auth.signed_in(request)
        return HTMLResponse(pages.layout(title, body, path=request.url.path, authed=authed,
                                         csrf=self.auth.csrf if authed else "", message=message))

    async def authorized(self, request: Request, data: dict[str, str]) -> str | None:
        """None when the request may act; else why not."""
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            return None if self.auth.token_ok(bearer[7:].strip()) else "wrong token"
        if not self.auth.signed_in(request):
            return "sign in with the dashboard token first"
        if not hmac.compare_digest(data.get("csrf", ""), self.auth.csrf):
            return "missing or wrong CSRF token; reload the page"
        if not same_origin(request):
            return "the request did not come from this dashboard (Origin check)"
        return None

    # ------------------------------------------------------------------------------------------- pages
    def overview(self, request: Request) -> HTMLResponse:
        journal = self.journal
        body = pages.allocation_page(views.latest_allocation(journal), views.value_history(journal),
                                     len(views.approvals(journal)["pending"]))
        return self.page(request, "Allocation vs target", body)

    def drift(self, request: Request) -> HTMLResponse:
        return self.page(request, "Drift history", pages.drift_page(views.drift_history(self.journal)))

    def approvals(self, request: Request) -> HTMLResponse:
        done = request.query_params.get("done", "")
        msg = f'<p class="msg ok" id="done">{pages.e(done)}</p>' if done else ""
        csrf = self.auth.csrf if self.auth.signed_in(request) else ""
        return self.page(request, "Approvals", pages.approvals_page(views.approvals(self.journal), csrf), msg)

    def trades(self, request: Request) -> HTMLResponse:
        return self.page(request, "Recent trades", pages.trades_page(views.trades(self.journal)))

    def execution(self, request: Request) -> HTMLResponse:
        return self.page(request, "Gas waits and split swaps",
                         pages.execution_page(views.gas_waits(self.journal), views.twap_progress(self.journal)))

    def journal_page(self, request: Request) -> HTMLResponse:
        return self.page(request, "Journal", pages.journal_page(views.journal_view(self.journal)))

    def tx(self, request: Request) -> HTMLResponse:
        h = request.path_params["tx_hash"]
        return self.page(request, f"Transaction {h}", pages.tx_page(views.attempt_by_hash(self.journal, h), h))

    def login_form(self, request: Request) -> HTMLResponse:
        return self.page(request, "Sign in", pages.login_page(request.query_params.get("next", "/approvals")))

    def healthz(self, _: Request) -> JSONResponse:
        doc = self.health() if self.health else {"ok": True}
        return JSONResponse(doc, status_code=200 if doc.get("ok") else 503)

    def plotly_js(self, _: Request) -> FileResponse:
        return FileResponse(charts.plotly_js_path(), media_type="application/javascript",
                            headers={"Cache-Control": "max-age=86400"})

    # ----------------------------------------------------------------------------------------- actions
    async def act(self, request: Request) -> Response:
        data = await form(request)
        why = await self.authorized(request, data)
        aid, verb = request.path_params["aid"], request.path_params["verb"]
        if verb not in ("approve", "reject"):
            return refused(f"unknown action {verb!r}; use approve or reject", status=404)
        if why is not None:
            log.warning("dashboard: %s of approval %s refused: %s", verb, aid, why)
            return refused(why)
        try:
            row = decide(self.journal, aid, approve=verb == "approve", by="dashboard")
        except ConfigError as exc:
            return refused(str(exc), status=409)
        if request.headers.get("authorization"):
            return JSONResponse({"id": row["id"], "status": row["status"]})
        return RedirectResponse(f"/approvals?done={row['id']}+{row['status']}", status_code=303)

    async def login(self, request: Request) -> Response:
        data = await form(request)
        if not same_origin(request):
            return refused("the request did not come from this dashboard (Origin check)")
        if not self.auth.token_ok(data.get("token", "")):
            log.warning("dashboard: sign-in with a wrong token refused")
            return refused("wrong token")
        nxt = data.get("next", "/")
        resp = RedirectResponse(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/", status_code=303)
        resp.set_cookie(COOKIE, self.auth.session, httponly=True, samesite="strict", path="/")
        return resp

    async def logout(self, request: Request) -> Response:
        data = await form(request)
        if await self.authorized(request, data) is not None:
            return refused("not signed in")
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp


def build_app(journal: JournalStore, *, token: str, allowed_hosts: list[str] | None = None,
              health: Callable[[], dict[str, Any]] | None = None) -> Starlette:
    dashboard = Dashboard(journal, Auth(token), health)
    hosts = allowed_hosts or ["127.0.0.1", "localhost", "[::1]"]
    return Starlette(routes=dashboard.routes(), middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
                                                            Middleware(SecurityHeaders)])


class SecurityHeaders:
    """No framing (clickjacking), no MIME sniffing, no referrer leaving the site."""

    HEADERS = ((b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
