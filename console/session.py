"""The session: a signed, HTTP-only, SameSite=Strict cookie (Secure outside development) holding
the user's gateway token, its claims for display, and the CSRF token every form must return.

The console keeps no server-side state; the gateway verifies the token on every call, so the
claims here only choose what to show, never what is allowed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field

import jwt
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "settle_console"


@dataclass(frozen=True)
class Session:
    csrf: str
    expires: float
    token: str = ""
    subject: str = ""
    roles: list[str] = field(default_factory=list)
    team: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.token) and self.expires > time.time()

    @property
    def user(self) -> str:
        return f"user:{self.subject}"

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class Sessions:
    def __init__(self, secret: str, secure: bool, ttl_s: float) -> None:
        self._key = hashlib.sha256(b"console-session:" + secret.encode()).digest()
        self._secure = secure
        self._ttl_s = ttl_s

    def anonymous(self) -> Session:
        return Session(csrf=secrets.token_urlsafe(24), expires=time.time() + self._ttl_s)

    def signed_in(self, token: str) -> Session:
        """A fresh session (new CSRF token) for this bearer token; claims are read, not trusted."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise ValueError("not a token") from exc
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.replace(",", " ").split()
        expires = min(float(claims.get("exp", 0)) or time.time(), time.time() + self._ttl_s)
        return Session(
            csrf=secrets.token_urlsafe(24),
            expires=expires,
            token=token,
            subject=str(claims.get("sub", "")),
            roles=[str(r) for r in roles],
            team=str(claims.get("team") or ""),
        )

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE, "")
        payload, _, signature = raw.rpartition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            session = Session(**json.loads(base64.urlsafe_b64decode(payload.encode())))
        except (ValueError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def write(self, response: Response, session: Session) -> None:
        payload = base64.urlsafe_b64encode(json.dumps(asdict(session)).encode()).decode()
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=max(int(session.expires - time.time()), 0),
            httponly=True,
            secure=self._secure,
            samesite="strict",
            path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, secure=self._secure, samesite="strict"
        )

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session | None, submitted: object) -> bool:
    return (
        session is not None
        and isinstance(submitted, str)
        and hmac.compare_digest(session.csrf, submitted)
    )
