"""The gateway's HTTP API (``docs/protocol.md``): operator sign-in and sign-out, the
department list, a patron's new chat, and health.

Errors are ``{"detail": "<a sentence>"}``; a service's :class:`~refdesk.bus.BusError`
keeps its code as the HTTP status.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from refdesk.auth import InvalidToken, issue_token, read_token
from refdesk.bus import BusError
from refdesk.contracts.common import Empty
from refdesk.contracts.queue import (
    AUTHENTICATE, CHAT_CREATE, DEPARTMENTS, OPERATOR_STATUS, AuthenticateRequest, ChatView, CreateChatRequest,
    DepartmentList, OperatorProfile, SetStatusRequest,
)
from refdesk.text import clean_text, is_blank

from .errors import is_valid_unicode
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
}
"""How body fields are named in readable ``422`` sentences."""

router = APIRouter()


def gateway_of(request: Request) -> Gateway:
    """The process's :class:`Gateway` (set by the app's lifespan)."""
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


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
async def login(body: LoginBody, gateway: GatewayDep) -> LoginReply:
    """Check an operator's username and password; answer a token (lifetime
    ``token_ttl_seconds``) and their profile. 401 "Wrong username or password."."""
    try:
        profile = await gateway.call(AUTHENTICATE, AuthenticateRequest(username=body.username, password=body.password),
                                     OperatorProfile)
    except BusError as exc:
        if exc.code in ("401", "404"):
            raise HTTPException(401, "Wrong username or password.") from None
        raise http_error(exc) from None
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


# --- patrons ---------------------------------------------------------------------


class PatronChatBody(Body):
    """A patron's question from the chat page. Text is cleaned as the queue service
    stores it (:func:`refdesk.text.clean_text`), so text with nothing visible in it is
    a ``422`` here."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    department_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=80)
    email: EmailStr | None = None
    question: str = Field(min_length=1, max_length=2000)
    page_url: str | None = Field(default=None, max_length=2000)

    @field_validator("email", "page_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and is_blank(value) else value

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_text(value, multiline=False)

    @field_validator("question")
    @classmethod
    def _cleaned(cls, value: str) -> str:
        return clean_text(value)


class PatronChatCreated(BaseModel):
    """The new chat, its id and the patron token that reaches it."""

    chat_id: str
    token: str
    chat: ChatView


@router.post("/api/patron/chats", response_model=PatronChatCreated, status_code=status.HTTP_201_CREATED)
async def create_patron_chat(body: PatronChatBody, gateway: GatewayDep) -> PatronChatCreated:
    """Queue a patron's chat; answer its id, a patron token for it (24 h) and the
    chat. The question is recorded as the chat's first message before the token is
    given out, so nothing the patron sends can come before it. 404 unknown
    department; 422 with a sentence for bad fields."""
    request = CreateChatRequest(department_id=body.department_id, patron_name=body.name, patron_email=body.email,
                                question=body.question, page_url=body.page_url)
    try:
        chat = await gateway.call(CHAT_CREATE, request, ChatView)
    except BusError as exc:
        raise http_error(exc) from None
    await gateway.record_lifecycle("queued", chat)
    token = issue_token(gateway.settings.jwt_secret, subject=chat.id, role="patron", name=chat.patron_name,
                        ttl_seconds=PATRON_TOKEN_SECONDS)
    return PatronChatCreated(chat_id=chat.id, token=token, chat=chat)


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
