"""Authentication: a bearer JWT (people) or an API key (service accounts) becomes the Actor that
the services receive, signed, in every call (common/actor.py)."""

from __future__ import annotations

import re
import time

from common.actor import Actor
from common.errors import Unauthenticated
from gateway.access import ROLES
from gateway.auth import apikeys, tokens
from gateway.auth.apikeys import ApiKey
from gateway.settings import JwtSettings

_TEAM_RE = re.compile(r"^[A-Z0-9_-]{0,64}$")
MAX_VERIFIED_TOKENS = 4096  # a few hundred people at once; cleared whole when full


def _roles(claim) -> tuple[str, ...]:
    if isinstance(claim, str):
        claim = claim.replace(",", " ").split()
    if not isinstance(claim, list):
        return ()
    return tuple(dict.fromkeys(r for r in claim if r in ROLES))  # unknown roles grant nothing


def _actor(kind: str, subject, roles: tuple[str, ...], team) -> Actor:
    if not isinstance(subject, str) or not apikeys.NAME_RE.match(subject):
        raise Unauthenticated("the token's subject is missing or malformed", reason="TOKEN_INVALID")
    team = team.strip().upper() if isinstance(team, str) else ""
    if not _TEAM_RE.match(team):
        raise Unauthenticated("the token's team is malformed", reason="TOKEN_INVALID")
    return Actor(f"{kind}:{subject}", roles, team)


class Authenticator:
    def __init__(self, jwt: JwtSettings | None, api_keys: tuple[ApiKey, ...]):
        self.jwt = jwt
        self.api_keys = api_keys
        self._verified: dict[str, tuple[Actor, float]] = {}  # token -> (actor, valid until)

    def authenticate(self, authorization: str | None, api_key: str | None) -> Actor:
        """From the `Authorization` header (or metadata) and the `X-Api-Key` one."""
        if authorization and api_key:
            raise Unauthenticated(
                "send a bearer token or an API key, not both", reason="AMBIGUOUS_CREDENTIALS"
            )
        if api_key:
            return self._api_key(api_key)
        if not authorization:
            raise Unauthenticated(
                "a bearer token or an API key is required", reason="CREDENTIALS_MISSING"
            )
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "the Authorization header must be 'Bearer <token>'", reason="CREDENTIALS_MALFORMED"
            )
        if self.jwt is None:
            raise Unauthenticated("this gateway accepts API keys only", reason="TOKEN_INVALID")
        return self._bearer(token.strip(), self.jwt)

    def _bearer(self, token: str, jwt: JwtSettings) -> Actor:
        """The person a bearer token names. A token verified once is kept until it expires:
        verifying it again (PyJWT: base64, JSON, HMAC, every claim) cost ~0.2-0.5 ms per call,
        and its signature, issuer, audience and claims cannot have changed; only time can."""
        known = self._verified.get(token)
        if known is not None:
            actor, valid_until = known
            if time.time() < valid_until:
                return actor
            del self._verified[token]  # expired: verify() says so
        claims = tokens.verify(token, jwt)
        actor = _actor("user", claims.get("sub"), _roles(claims.get("roles")), claims.get("team"))
        if len(self._verified) >= MAX_VERIFIED_TOKENS:
            self._verified.clear()
        # PyJWT refuses once exp <= now - leeway; iat and nbf only ever become more valid
        self._verified[token] = (actor, int(claims["exp"]) + jwt.leeway_s)
        return actor

    def _api_key(self, presented: str) -> Actor:
        key = apikeys.find(self.api_keys, presented.strip())
        if key is None:
            raise Unauthenticated("the API key is not valid", reason="API_KEY_INVALID")
        return _actor("service-account", key.name, key.roles, key.team)
