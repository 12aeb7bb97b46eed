"""Bearer JWTs: verified against the configured key(s) with issuer, audience and expiry checked.

Claims: `sub` (the person), `roles` (a list, or a space- or comma-separated string), `team`
(e.g. "SALES"), `exp` (required), `iat`/`nbf` (optional). Only the configured algorithm is
accepted, so a token cannot choose `none` or pass an RS256 public key off as an HS256 secret.
"""

from __future__ import annotations

import time

import jwt

from common.errors import Unauthenticated
from gateway.settings import JwtSettings

REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


def verify(token: str, settings: JwtSettings) -> dict:
    options = {"require": REQUIRED_CLAIMS}
    last_error: jwt.InvalidTokenError | None = None
    for key in settings.keys:  # several public keys while they rotate
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[settings.algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                options=options,
                leeway=settings.leeway_s,
            )
        except jwt.InvalidSignatureError as exc:
            last_error = exc
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is invalid: {exc}", reason="TOKEN_INVALID") from None
    raise Unauthenticated(f"the token is invalid: {last_error}", reason="TOKEN_INVALID")


def mint(
    settings: JwtSettings,
    subject: str,
    roles: list[str],
    team: str = "",
    ttl_s: float = 8 * 3600,
    now: float | None = None,
) -> str:
    """A token the gateway accepts; only possible with an HS256 secret (development, tests)."""
    if settings.algorithm != "HS256":
        raise ValueError("tokens can only be minted with an HS256 secret")
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "roles": roles,
        "team": team,
        "iat": issued,
        "exp": issued + int(ttl_s),
    }
    return jwt.encode(claims, settings.keys[0], algorithm="HS256")
