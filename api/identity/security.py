"""Password hashing (argon2id), password strength, opaque tokens and access JWTs (HS256)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

# OWASP Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so login takes the same time either way.
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

ALGORITHM = "HS256"
ZXCVBN_MAX_INPUT = 72  # zxcvbn refuses longer input (and is quadratic); the rest only adds strength


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, min_length: int, min_score: int, user_inputs: list[str]) -> str | None:
    """Why a password is too weak (NIST SP 800-63B style: length plus a guessability estimate), or None."""
    if len(password) < min_length:
        return f"password must be at least {min_length} characters"
    result = zxcvbn(password[:ZXCVBN_MAX_INPUT], user_inputs=[u for u in user_inputs if u])
    if result["score"] < min_score:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        return f"password is too weak: {hint.rstrip('.')}; use a longer passphrase"
    return None


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    role: str


def create_access_token(user_id: int, role: str, session_id: str, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": role,
        "sid": session_id,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token, or None."""
    verified = _verified(token, secret)
    if verified is None:
        return None
    claims, expires_at = verified
    # Checked on every use, not only when the signature was first verified.
    return claims if time.time() < expires_at else None


@lru_cache(maxsize=20_000)
def _verified(token: str, secret: str) -> tuple[AccessClaims, float] | None:
    """Signature and claims of a token, verified once: a client presents the same token for up to its
    lifetime, and the HMAC check and JSON parsing cost more than the rest of a cheap request."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "sid", "role"]})
        access = AccessClaims(user_id=int(claims["sub"]), session_id=str(claims["sid"]), role=str(claims["role"]))
        return access, float(claims["exp"])
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
