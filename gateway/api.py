"""The gateway's HTTP API (``docs/protocol.md``): operator sign-in and sign-out, the
department list, a patron's new chat, and health.

Errors are ``{"detail": "<a sentence>"}``; a service's :class:`~refdesk.bus.BusError`
keeps its code as the HTTP status. Starting chats and failed sign-ins are rate limited
per client address (:mod:`gateway.ratelimit`): over the limit, ``429`` with a
``Retry-After`` header (seconds).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from refdesk.auth import InvalidToken, issue_token, read_token
from refdesk.bus import BusError
from refdesk.contracts import tickets as tickets_contract
from refdesk.contracts.common import Empty
from refdesk.contracts.queue import (
    AUTHENTICATE, CHAT_CREATE, DEPARTMENTS, OPERATOR_STATUS, AuthenticateRequest, ChatView, CreateChatRequest,
    DepartmentId, DepartmentList, OperatorProfile, OptionalEmail, PageUrl, PatronName, Question, RequestId,
    SetStatusRequest,
)

from .errors import is_valid_unicode
from .patron_view import PatronChat, patron_chat
from .ratelimit import RateLimited, RateLimits, SlidingWindow
from .security import analytics_origin
from .session import Gateway

PATRON_TOKEN_SECONDS = 24 * 3600
"""Lifetime of a patron token (it reaches the one chat it was issued for)."""

HEALTH_SERVICES = ("queue", "chat", "tickets", "analytics")
HEALTH_TIMEOUT_SECONDS = 1.0

FIELD_LABELS = {
    "username": "The username",
    "password": "The password",
    "department_id": "The department",
    "name": "Your name",
    "email": "Your email address",
    "question": "Your question",
    "page_url": "The page address",
    "request_id": "The request id",
}
"""How body fields are named in readable ``422`` sentences."""

TOO_MANY_CHATS = "Too many chats started from this network. Please wait a few minutes and try again."
TOO_MANY_SIGN_INS = "Too many failed sign-in attempts from this network. Please wait a few minutes and try again."

router = APIRouter()


def gateway_of(request: Request) -> Gateway:
    """The process's :class:`Gateway` (set by the app's lifespan)."""
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


def client_key(request: Request) -> str:
    """The rate-limit key of the request's client (:meth:`RateLimits.key`)."""
    limits: RateLimits = request.app.state.limits
    return limits.key(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def take(window: SlidingWindow, key: str, detail: str) -> float:
    """Count an attempt of ``key`` in ``window``; return its stamp.

    Raises:
        HTTPException: ``429`` with ``detail`` and ``Retry-After`` when over the limit.
    """
    try:
        return window.take(key)
    except RateLimited as exc:
        raise HTTPException(429, detail, headers={"Retry-After": str(exc.retry_after)}) from None


def http_error(exc: BusError) -> HTTPException:
    """A service error as an HTTP error with the same status and sentence."""
    code = int(exc.code) if exc.code.isdigit() and 400 <= int(exc.code) <= 599 else 502
    return HTTPException(code, exc.message)


# --- operators -------------------------------------------------------------------


class Body(BaseModel):
    """Base of the HTTP bodies: unknown fields are refused, and so is text that is not
    valid Unicode (a lone surrogate such as ``"\\ud800"``: it cannot be stored or sent
    on, so it is a ``422``, not a failure later)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: object) -> object:
        if isinstance(value, str) and not is_valid_unicode(value):
            raise ValueError("contains characters that are not allowed")
        return value


class LoginBody(Body):
    """``POST /api/auth/login`` body."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class LoginReply(BaseModel):
    """An operator token and the operator's profile."""

    token: str
    operator: OperatorProfile


class OkReply(BaseModel):
    """``{"ok": true}``."""

    ok: bool = True


async def signed_in_operator(request: Request, gateway: GatewayDep) -> str:
    """The operator id from ``Authorization: Bearer <operator token>``.

    Raises:
        HTTPException: 401 without a valid token, 403 for a patron token.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = read_token(gateway.settings.jwt_secret, token.strip())
    except InvalidToken:
        raise HTTPException(401, "Your sign-in has expired; please sign in again.",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    if claims.role != "operator":
        raise HTTPException(403, "Only library staff can do that.")
    return claims.subject


@router.post("/api/auth/login", response_model=LoginReply)
async def login(body: LoginBody, request: Request, gateway: GatewayDep) -> LoginReply:
    """Check an operator's username and password; answer a token (lifetime
    ``token_ttl_seconds``) and their profile. 401 "Wrong username or password.";
    429 (:data:`TOO_MANY_SIGN_INS`, ``Retry-After``) once ``login_failure_limit``
    sign-ins from the client's address failed within ``login_failure_window_seconds``
    — every attempt counts while it runs, and is forgiven unless the password was
    wrong."""
    failures, key = request.app.state.limits.failed_logins, client_key(request)
    attempt = take(failures, key, TOO_MANY_SIGN_INS)
    try:
        profile = await gateway.call(AUTHENTICATE, AuthenticateRequest(username=body.username, password=body.password),
                                     OperatorProfile)
    except BusError as exc:
        if exc.code in ("401", "404"):
            raise HTTPException(401, "Wrong username or password.") from None
        failures.forgive(key, attempt)
        raise http_error(exc) from None
    failures.forgive(key, attempt)
    token = issue_token(gateway.settings.jwt_secret, subject=profile.id, role="operator", name=profile.nickname,
                        ttl_seconds=gateway.settings.token_ttl_seconds)
    return LoginReply(token=token, operator=profile)


@router.post("/api/auth/logout", response_model=OkReply)
async def logout(operator_id: Annotated[str, Depends(signed_in_operator)], gateway: GatewayDep) -> OkReply:
    """Sign out: the operator goes Offline (their open sockets stop receiving queue
    updates through the status event)."""
    try:
        await gateway.call(OPERATOR_STATUS, SetStatusRequest(operator_id=operator_id, status="offline"), OperatorProfile)
    except BusError as exc:
        raise http_error(exc) from None
    return OkReply()


@router.get("/api/departments", response_model=DepartmentList)
async def departments(gateway: GatewayDep) -> DepartmentList:
    """Every department with ``online`` = someone Online monitors it (the widget
    offers the question form or the offline message)."""
    try:
        return await gateway.call(DEPARTMENTS, Empty(), DepartmentList)
    except BusError as exc:
        raise http_error(exc) from None


class ConfigReply(BaseModel):
    """What the staff dashboard needs to know about this installation.

    Attributes:
        analytics_url: origin of the analytics reporting API (the Reports tab calls
            it from the browser; the page's CSP allows exactly this origin).
        time_zone: the library's IANA time zone: report dates and hours are in it.
        mail_url: the local mail catcher's page when ``refdesk up`` runs one (the
            topbar's "Mail" link), else None.
    """

    analytics_url: str
    time_zone: str
    mail_url: str | None = None


@router.get("/api/config", response_model=ConfigReply)
async def config(_: Annotated[str, Depends(signed_in_operator)], gateway: GatewayDep) -> ConfigReply:
    """The dashboard's configuration (operator token needed: 401 without, 403 for a
    patron token)."""
    return ConfigReply(analytics_url=analytics_origin(gateway.settings), time_zone=gateway.settings.time_zone,
                       mail_url=gateway.settings.mailcatcher_url or None)


# --- patrons ---------------------------------------------------------------------


class PatronChatBody(Body):
    """A patron's question from the chat page. Fields are the queue contract's own
    types (:data:`refdesk.contracts.queue.PatronName` …), so text is cleaned as the
    queue service stores it and text with nothing visible in it is a ``422`` here."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    department_id: DepartmentId
    name: PatronName
    email: OptionalEmail = None
    question: Question
    page_url: PageUrl = None
    request_id: RequestId = None


class PatronChatCreated(BaseModel):
    """The new chat (as its patron sees it: :class:`~gateway.patron_view.PatronChat`),
    its id and the patron token that reaches it."""

    chat_id: str
    token: str
    chat: PatronChat


@router.post("/api/patron/chats", response_model=PatronChatCreated, status_code=status.HTTP_201_CREATED)
async def create_patron_chat(body: PatronChatBody, http: Request, gateway: GatewayDep) -> PatronChatCreated:
    """Queue a patron's chat; answer its id, a patron token for it (24 h) and the
    chat. The question is recorded as the chat's first message before the token is
    given out, so nothing the patron sends can come before it.

    A retry carrying the same ``request_id`` (the patron page keeps one per question
    until the chat is created) answers the chat the first attempt created, with a
    new token, instead of queueing a second chat.

    404 unknown department; 409 a ``request_id`` reused for another question; 422
    with a sentence for bad fields; 429 (:data:`TOO_MANY_CHATS`, ``Retry-After``)
    after ``patron_chat_limit`` attempts from the client's address within
    ``patron_chat_window_seconds``."""
    take(http.app.state.limits.patron_chats, client_key(http), TOO_MANY_CHATS)
    request = CreateChatRequest(department_id=body.department_id, patron_name=body.name, patron_email=body.email,
                                question=body.question, page_url=body.page_url, request_id=body.request_id)
    try:
        chat = await gateway.call(CHAT_CREATE, request, ChatView)
    except BusError as exc:
        raise http_error(exc) from None
    await gateway.record_lifecycle("queued", chat)
    token = issue_token(gateway.settings.jwt_secret, subject=chat.id, role="patron", name=chat.patron_name,
                        ttl_seconds=PATRON_TOKEN_SECONDS)
    return PatronChatCreated(chat_id=chat.id, token=token, chat=patron_chat(chat))


class PatronTicketBody(PatronChatBody):
    """The widget's offline form (nobody is monitoring the department): the fields of
    :class:`PatronChatBody`, with the email address required (the answer comes by
    email)."""

    email: EmailStr


class PatronTicketCreated(BaseModel):
    """What the patron is told: the ticket's id, where the answer will go, and its department."""

    ticket_id: str
    email: str
    department_name: str


@router.post("/api/patron/tickets", response_model=PatronTicketCreated, status_code=status.HTTP_201_CREATED)
async def create_patron_ticket(body: PatronTicketBody, http: Request, gateway: GatewayDep) -> PatronTicketCreated:
    """The offline form: a New ticket in the department's queue and a confirmation
    email to the patron ("We've received your question"). A retry with the same
    ``request_id`` answers the same ticket (no second email). 404 unknown department;
    422 with a sentence for bad fields; 429 (:data:`TOO_MANY_CHATS`, ``Retry-After``)
    shares the limit of ``POST /api/patron/chats``."""
    take(http.app.state.limits.patron_chats, client_key(http), TOO_MANY_CHATS)
    try:
        departments = await gateway.call(DEPARTMENTS, Empty(), DepartmentList)
        department = next((d for d in departments.departments if d.id == body.department_id), None)
        if department is None:
            raise HTTPException(404, f"There is no department called {body.department_id!r}.")
        ticket = await gateway.call(tickets_contract.CREATE_OFFLINE, tickets_contract.CreateOfflineRequest(
            department_id=department.id, department_name=department.name, patron_name=body.name,
            patron_email=body.email, question=body.question, page_url=body.page_url, request_id=body.request_id,
        ), tickets_contract.TicketView)
    except BusError as exc:
        raise http_error(exc) from None
    return PatronTicketCreated(ticket_id=ticket.id, email=ticket.patron_email or body.email,
                               department_name=ticket.department_name)


# --- health ----------------------------------------------------------------------


async def _answers(gateway: Gateway, service: str) -> bool:
    try:
        await gateway.nc.request(f"$SRV.PING.{service}", b"", timeout=HEALTH_TIMEOUT_SECONDS)
    except Exception:
        return False
    return True


@router.get("/healthz")
async def healthz(gateway: GatewayDep) -> JSONResponse:
    """``200 {"status": "ok", "services": {"queue": true, …}}`` when every service
    answers ``$SRV.PING.<name>`` within a second; ``503`` with ``"status":
    "degraded"`` otherwise."""
    answers = await asyncio.gather(*(_answers(gateway, name) for name in HEALTH_SERVICES))
    services = dict(zip(HEALTH_SERVICES, answers))
    healthy = all(answers) and gateway.nc.is_connected
    return JSONResponse({"status": "ok" if healthy else "degraded", "services": services},
                        status_code=200 if healthy else 503)
