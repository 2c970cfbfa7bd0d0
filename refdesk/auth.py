"""Passwords (Argon2id through pwdlib) and signed tokens (HS256 JWTs through PyJWT).

Tokens:

* operator token — ``{"sub": operator_id, "role": "operator", "exp": …}``, issued at
  sign-in, lifetime ``token_ttl_seconds``;
* patron token — ``{"sub": chat_id, "role": "patron", "name": …, "exp": …}``, issued
  when the patron's chat is queued; it reaches that one chat only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import jwt
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
_ALGORITHM = "HS256"

Role = Literal["operator", "patron"]


def hash_password(password: str) -> str:
    """Return an Argon2id hash string (``$argon2id$…``) of ``password``. Slow by design
    (tens of ms): call it off the event loop."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash``; false for a malformed hash."""
    try:
        return _hasher.verify(password, password_hash)
    except Exception:
        return False


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: who (``subject``: operator id or chat id) and as whom."""

    subject: str
    role: Role
    name: str


class InvalidToken(Exception):
    """The token is malformed, forged or expired."""


def issue_token(secret: str, *, subject: str, role: Role, name: str, ttl_seconds: int) -> str:
    """Sign a token for ``subject`` valid for ``ttl_seconds`` seconds."""
    now = int(time.time())
    return jwt.encode({"sub": subject, "role": role, "name": name, "iat": now, "exp": now + ttl_seconds}, secret, algorithm=_ALGORITHM)


def read_token(secret: str, token: str) -> TokenClaims:
    """Verify ``token`` and return its claims.

    Raises:
        InvalidToken: bad signature, expired, or missing claims.
    """
    try:
        data = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp", "role"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if data["role"] not in ("operator", "patron"):
        raise InvalidToken("unknown role")
    return TokenClaims(subject=str(data["sub"]), role=data["role"], name=str(data.get("name", "")))
