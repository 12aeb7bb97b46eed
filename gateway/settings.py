"""The gateway's configuration, from the environment (see docs/gateway.md for every variable).

Development mode (SETTLE_ENV=development, the default) has a built-in JWT secret so that
`make token` works; any other mode has no default secret and refuses to start without one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.settings import PROJECT_ROOT, ConfigurationError, Settings
from gateway.auth.apikeys import ApiKey, load_api_keys
from gateway.catalog import BACKENDS
from gateway.limits import LimitSettings

DEV_JWT_SECRET = "settle-development-only-jwt-secret-never-use-elsewhere"
DEV_ISSUER = "settle-dev"
DEV_AUDIENCE = "settle"
MIN_HS256_SECRET = 32  # bytes: RFC 7518 §3.2 wants a key at least as long as the hash
# Per caller: well above a person's front-end and the benchmark's 16 clients under one token
# (~55 calls/s), well below what lets one caller take the gateway and its backends for itself.
DEFAULT_LIMITS = LimitSettings(rate_per_s=100, burst=200, concurrency=32)


@dataclass(frozen=True)
class JwtSettings:
    algorithm: str  # "HS256" or "RS256"
    keys: tuple[str, ...]  # the HS256 secret, or PEM public keys (several during a rotation)
    issuer: str
    audience: str
    leeway_s: float = 30.0


@dataclass(frozen=True)
class GatewaySettings:
    base: Settings  # gRPC address (GATEWAY_ADDR), internal secret, backends' addresses, log level
    http_addr: str
    jwt: JwtSettings | None
    api_keys: tuple[ApiKey, ...]
    cors_origins: tuple[str, ...]
    deadline_s: float  # every unary backend call
    upload_deadline_s: float  # client-streaming calls (imports)
    stream_deadline_s: float  # server streams (watch): the longest one lives; clients resume
    max_body_bytes: int
    max_upload_bytes: int
    protos_dir: Path  # read for the comments that become OpenAPI descriptions
    limits: LimitSettings = DEFAULT_LIMITS  # per caller: rate, burst, calls in flight

    @property
    def development(self) -> bool:
        return self.base.development

    @classmethod
    def from_env(cls, environ=None) -> GatewaySettings:
        env = os.environ if environ is None else environ
        base = Settings.from_env("gateway", BACKENDS, env)

        def get(name: str, default: str | None = None) -> str | None:
            return env.get(name) or default  # set but empty counts as unset

        jwt = _jwt_settings(get, base.development)
        api_keys = load_api_keys(get("GATEWAY_API_KEYS_FILE"))
        if jwt is None and not api_keys:
            raise ConfigurationError(
                "outside development the gateway needs GATEWAY_JWT_HS256_SECRET or "
                "GATEWAY_JWT_PUBLIC_KEYS_FILE (with GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE), "
                "or GATEWAY_API_KEYS_FILE"
            )
        origins = tuple(o.strip() for o in get("GATEWAY_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            base=base,
            http_addr=get("GATEWAY_HTTP_ADDR", "127.0.0.1:8080"),
            jwt=jwt,
            api_keys=api_keys,
            cors_origins=origins,
            deadline_s=_number(get, "GATEWAY_DEADLINE_S", base.default_deadline_s),
            upload_deadline_s=_number(get, "GATEWAY_UPLOAD_DEADLINE_S", 300),
            stream_deadline_s=_number(get, "GATEWAY_STREAM_DEADLINE_S", 3600),
            max_body_bytes=int(_number(get, "GATEWAY_MAX_BODY_BYTES", 1024 * 1024)),
            max_upload_bytes=int(_number(get, "GATEWAY_MAX_UPLOAD_BYTES", 64 * 1024 * 1024)),
            protos_dir=Path(get("GATEWAY_PROTOS_DIR", str(PROJECT_ROOT / "protos"))),
            limits=LimitSettings(
                rate_per_s=_number(get, "GATEWAY_RATE_PER_S", DEFAULT_LIMITS.rate_per_s),
                burst=int(_number(get, "GATEWAY_RATE_BURST", DEFAULT_LIMITS.burst)),
                concurrency=int(_number(get, "GATEWAY_CONCURRENCY", DEFAULT_LIMITS.concurrency)),
            ),
        )


def _number(get, name: str, default: float) -> float:
    raw = get(name)
    try:
        value = float(raw) if raw is not None else float(default)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return value


def _jwt_settings(get, development: bool) -> JwtSettings | None:
    secret = get("GATEWAY_JWT_HS256_SECRET")
    keys_file = get("GATEWAY_JWT_PUBLIC_KEYS_FILE")
    if secret and keys_file:
        raise ConfigurationError(
            "set GATEWAY_JWT_HS256_SECRET or GATEWAY_JWT_PUBLIC_KEYS_FILE, not both"
        )
    if not secret and not keys_file:
        if not development:
            return None
        secret = DEV_JWT_SECRET
    issuer = get("GATEWAY_JWT_ISSUER", DEV_ISSUER if development else None)
    audience = get("GATEWAY_JWT_AUDIENCE", DEV_AUDIENCE if development else None)
    if not issuer or not audience:
        raise ConfigurationError("GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE must be set")
    if secret:
        if len(secret.encode()) < MIN_HS256_SECRET and not development:
            raise ConfigurationError(f"GATEWAY_JWT_HS256_SECRET needs {MIN_HS256_SECRET}+ bytes")
        return JwtSettings("HS256", (secret,), issuer, audience)
    return JwtSettings("RS256", _public_keys(keys_file), issuer, audience)


def _public_keys(path: str) -> tuple[str, ...]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigurationError(f"GATEWAY_JWT_PUBLIC_KEYS_FILE {path}: {exc}") from None
    end = "-----END PUBLIC KEY-----"
    keys = tuple(block.strip() + "\n" + end for block in text.split(end) if "BEGIN" in block)
    if not keys:
        raise ConfigurationError(f"GATEWAY_JWT_PUBLIC_KEYS_FILE {path}: no PEM public key in it")
    return keys
