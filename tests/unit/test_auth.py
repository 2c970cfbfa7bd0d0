"""Passwords and tokens (refdesk.auth)."""

import time

import jwt
import pytest

from refdesk.auth import InvalidToken, hash_password, issue_token, read_token, verify_password

SECRET = "a-test-secret-long-enough-for-hs512-" + "x" * 32


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong horse", hashed)


def test_malformed_hash_never_verifies() -> None:
    assert not verify_password("anything", "not-a-hash")


def test_token_round_trip_keeps_subject_role_and_name() -> None:
    token = issue_token(SECRET, subject="op1", role="operator", name="Ana", ttl_seconds=60)
    claims = read_token(SECRET, token)
    assert (claims.subject, claims.role, claims.name) == ("op1", "operator", "Ana")


@pytest.mark.parametrize(
    "token",
    [
        issue_token("another-secret-of-at-least-32-bytes!!", subject="op1", role="operator", name="Ana", ttl_seconds=60),
        jwt.encode({"sub": "op1", "role": "operator", "exp": int(time.time()) - 5}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "op1", "role": "admin", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "op1", "role": "operator", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"),
        "garbage",
    ],
    ids=["forged", "expired", "unknown-role", "other-algorithm", "garbage"],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        read_token(SECRET, token)
