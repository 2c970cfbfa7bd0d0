"""The analytics HTTP reporting API (FastAPI; OpenAPI at ``/docs``), served by the
analytics process itself.

Endpoints (all but ``/healthz`` need ``Authorization: Bearer <operator token>``):

* ``GET /healthz`` — ``{"status": "ok", "database": true}``, or ``503`` with
  ``"unavailable"`` when the database does not answer;
* ``GET /api/records`` — Reference Analytics records, newest first;
* ``GET /api/chats`` — chat facts (wait time, first response time, duration), newest
  queued first;
* ``GET /api/chats/{chat_id}`` — one chat's facts, ``404`` if unknown, ``403`` if of
  another department;
* ``GET /api/reports/<name>`` and ``POST /api/admin/rebuild`` — the reports API
  (:mod:`.reports_http`, docs/analytics.md).

Every ``/api`` endpoint follows one rule (:mod:`.access`): admins see every
department, operators only their own departments' chats and records.

Times are UTC ISO-8601 strings; durations are seconds (floats), ``null`` while unknown.
Errors come as ``{"detail": "<a sentence>"}``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from refdesk.auth import InvalidToken, TokenClaims, read_token
from refdesk.contracts.analytics import RaRecord
from refdesk.settings import Settings
from refdesk.web import serve_until

from .config import DEFAULT_LIST_LIMIT, HTTP_SHUTDOWN_SECONDS, ID_PATTERN, MAX_LIST_LIMIT
from .facts import ChatFacts
from .facts_store import FactsStore
from .access import Access, ProfileLookup, access_guard, refuse_department, visible
from .reports_http import reports_router
from .rebuild import RebuildResult
from .store import AnalyticsStore

log = structlog.get_logger()


class Health(BaseModel):
    """``status`` is ``ok`` when the database answers."""

    status: Literal["ok", "unavailable"]
    database: bool


class RecordList(BaseModel):
    """Reference Analytics records, newest first."""

    records: list[RaRecord]


class ChatFactOut(BaseModel):
    """What analytics knows about one chat. Times are UTC; any may be null until the
    event that makes it known has been consumed.

    Attributes:
        wait_seconds: wait time, queued → claimed.
        first_response_seconds: claimed → the operator's first message.
        duration_seconds: duration, claimed → ended.
        message_count: messages so far, system messages included.
        missed: the chat ended before any operator claimed it.
        outcome / ticketed / operators / transfers / rating: see docs/analytics.md.
    """

    chat_id: str
    department_id: str | None
    patron_name: str | None
    operator_id: str | None
    state: Literal["queued", "active", "ended", "closed"] | None
    queued_at: datetime | None
    claimed_at: datetime | None
    first_response_at: datetime | None
    ended_at: datetime | None
    closed_at: datetime | None
    ended_by: Literal["patron", "operator"] | None
    wait_seconds: float | None
    first_response_seconds: float | None
    duration_seconds: float | None
    message_count: int
    missed: bool
    outcome: Literal["answered", "missed", "dismissed", "open"]
    ticketed: bool
    operators: list[str]
    transfers: int
    rating: int | None
    rating_comment: str | None

    @classmethod
    def of(cls, fact: ChatFacts) -> ChatFactOut:
        """The API view of a domain fact (derived seconds included)."""
        return cls(
            chat_id=fact.chat_id, department_id=fact.department_id, patron_name=fact.patron_name,
            operator_id=fact.operator_id, state=fact.state, queued_at=fact.queued_at, claimed_at=fact.claimed_at,
            first_response_at=fact.first_response_at, ended_at=fact.ended_at, closed_at=fact.closed_at,
            ended_by=fact.ended_by, wait_seconds=fact.wait_seconds, first_response_seconds=fact.first_response_seconds,
            duration_seconds=fact.duration_seconds, message_count=fact.message_count, missed=fact.missed,
            outcome=fact.outcome, ticketed=fact.ticketed, operators=list(fact.operators), transfers=fact.transfers,
            rating=fact.rating, rating_comment=fact.rating_comment,
        )


class ChatFactList(BaseModel):
    """Chat facts, newest queued first."""

    chats: list[ChatFactOut]


class ErrorDetail(BaseModel):
    """An error: one sentence to show."""

    detail: str


_UNAUTHORIZED = {401: {"model": ErrorDetail, "description": "Missing, invalid or expired operator token."},
                 403: {"model": ErrorDetail, "description": "A department that is not yours, or an unknown operator."}}

OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN, description="An id (letters, digits, _ . : -).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description=f"At most this many rows (≤ {MAX_LIST_LIMIT}).")]


def _operator_guard(secret: str) -> Callable[..., TokenClaims]:
    """A dependency that returns the claims of a valid operator token.

    Raises:
        HTTPException: ``401`` with a readable ``detail`` for a missing, invalid,
            expired or patron token.
    """
    bearer = HTTPBearer(auto_error=False, description="An operator token from the gateway's sign-in.")

    def operator(credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> TokenClaims:
        def refuse(detail: str) -> HTTPException:
            return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})

        if credentials is None:
            raise refuse("Sign in first: send your operator token as 'Authorization: Bearer <token>'.")
        try:
            claims = read_token(secret, credentials.credentials)
        except InvalidToken:
            raise refuse("Your sign-in token is invalid or has expired; please sign in again.") from None
        if claims.role != "operator":
            raise refuse("Reports are for operators; a patron token cannot read them.")
        return claims

    return operator


def _serve_docs_offline(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) from the ``swagger-ui-bundle-v2`` wheel's files rather
    than a CDN, so it works on a library network without internet access."""
    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="data:,",
        )


def create_app(pool: asyncpg.Pool, settings: Settings, *, profiles: ProfileLookup | None,
               rebuild: Callable[[], Awaitable[RebuildResult]] | None = None) -> FastAPI:
    """Build the reporting API over the analytics schema's ``pool``. Tokens are checked
    with ``settings.jwt_secret``; the gateway's origin
    (``http://{gateway_host}:{gateway_port}`` and ``http://localhost:{gateway_port}``)
    may call it from the browser. ``profiles`` looks operators up for the department
    rule of every ``/api`` endpoint (:mod:`.access`; None: every operator sees
    everything — tools only);
    ``rebuild`` serves ``POST /api/admin/rebuild``."""
    store = AnalyticsStore(pool)
    facts_store = FactsStore(pool)
    app = FastAPI(
        title="refdesk analytics",
        version="0.1.0",
        summary="Reference Analytics records and chat facts (wait time, first response time, duration).",
        docs_url=None,
        redoc_url=None,
    )
    _serve_docs_offline(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted({f"http://{settings.gateway_host}:{settings.gateway_port}",
                              f"http://localhost:{settings.gateway_port}"}),
        allow_methods=["GET"],
        allow_headers=["Authorization"],
        expose_headers=["Content-Disposition"],
    )

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["Health"])
    async def healthz() -> Health | JSONResponse:
        """Whether the service and its database answer."""
        try:
            await store.ping()
        except Exception:  # noqa: BLE001 - any failure means unavailable
            return JSONResponse(Health(status="unavailable", database=False).model_dump(), status_code=503)
        return Health(status="ok", database=True)

    operator_guard = _operator_guard(settings.jwt_secret)
    access = access_guard(operator_guard, profiles)
    who_asks = Depends(access)  # a default, not Annotated: this module's annotations are strings
    api = APIRouter(prefix="/api", dependencies=[Depends(operator_guard)], responses=_UNAUTHORIZED)

    @api.get("/records", response_model=RecordList, tags=["Reference Analytics"])
    async def list_records(chat_id: OptionalId = None, operator_id: OptionalId = None,
                           limit: Limit = DEFAULT_LIST_LIMIT, who: Access = who_asks) -> RecordList:
        """Reference Analytics records, newest first, optionally of one chat and/or
        operator: an operator gets those of their departments and the hand entries
        without a department they wrote; an admin gets all."""
        records = await store.list_records(chat_id=chat_id, operator_id=operator_id, limit=limit,
                                           departments=who.departments, viewer_id=who.operator_id)
        return RecordList(records=records)

    @api.get("/chats", response_model=ChatFactList, tags=["Chat facts"])
    async def list_chats(chat_id: OptionalId = None, department_id: OptionalId = None, operator_id: OptionalId = None,
                         limit: Limit = DEFAULT_LIST_LIMIT, who: Access = who_asks) -> ChatFactList:
        """Chat facts, newest queued first, optionally of one chat, department and/or
        operator — only of the caller's departments (all for an admin); ``403`` for a
        ``department_id`` that is not theirs."""
        facts = await facts_store.listing(chat_id=chat_id, departments=visible(who, department_id),
                                          operator_id=operator_id, limit=limit)
        return ChatFactList(chats=[ChatFactOut.of(fact) for fact in facts])

    @api.get("/chats/{chat_id}", response_model=ChatFactOut, tags=["Chat facts"],
             responses={404: {"model": ErrorDetail, "description": "No event about this chat has been seen."}})
    async def get_chat(chat_id: Annotated[str, Path(pattern=ID_PATTERN)], who: Access = who_asks) -> ChatFactOut:
        """One chat's facts; ``403`` when it was queued in a department not the caller's."""
        fact = await facts_store.get(chat_id)
        if fact is None:
            raise HTTPException(404, f"No chat {chat_id} is known to analytics (no queue or chat event about it yet).")
        if not who.sees_department(fact.department_id):
            raise refuse_department(who)
        return ChatFactOut.of(fact)

    app.include_router(api)
    app.include_router(reports_router(pool, settings.time_zone, access, rebuild), prefix="/api",
                       dependencies=[Depends(operator_guard)], responses=_UNAUTHORIZED)
    return app


def bind(host: str, port: int) -> socket.socket:
    """Open the listening socket of the reporting API.

    Raises:
        OSError: the address is in use or cannot be bound (the message says which).
    """
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        raise OSError(exc.errno, f"the analytics reporting API cannot listen on {host}:{port}: {exc.strerror}") from None


async def serve(app: FastAPI, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve ``app`` on the bound ``sock`` until ``stop`` is set, then finish open
    requests (at most ``HTTP_SHUTDOWN_SECONDS``) and close the socket."""
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False,
                            timeout_graceful_shutdown=HTTP_SHUTDOWN_SECONDS)
    host, port = sock.getsockname()[:2]
    log.info("analytics.http_listening", url=f"http://{host}:{port}/docs")
    try:
        await serve_until(config, stop, sockets=[sock])
    except Exception:
        log.exception("analytics.http_failed")
    finally:
        sock.close()
