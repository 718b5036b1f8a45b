"""Bearer tokens: stored as SHA-256 hashes, checked on every write."""

from __future__ import annotations

import hashlib
import secrets

from events import Token, TokenStore
from web.problems import Problem

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="diplocal"'}


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token (URL-safe)."""
    return secrets.token_urlsafe(32)


def reader(tokens: TokenStore, authorization: str | None) -> Token:
    """The token a request carries; 401 without a valid one."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Problem(
            401,
            "Unauthorized",
            "send 'Authorization: Bearer <token>' (create one with `diplocal token add NAME`)",
            headers=CHALLENGE,
        )
    found = tokens.find(token_hash(secret))
    if found is None:
        raise Problem(
            401,
            "Unauthorized",
            "the bearer token is not valid",
            headers={"WWW-Authenticate": 'Bearer realm="diplocal", error="invalid_token"'},
        )
    return found


def writer(tokens: TokenStore, authorization: str | None) -> str:
    """The name of a token allowed to write; 401 without a valid token, 403 if read-only."""
    token = reader(tokens, authorization)
    if not token.can_write:
        raise Problem(403, "Forbidden", f"token {token.name!r} may read but not write")
    return token.name
