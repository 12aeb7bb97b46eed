"""Settings from the environment, with defaults that make `make run` work on a fresh machine.

Per service: `<SERVICE>_DATABASE_URL`, `<SERVICE>_ADDR` (where it listens, and where others find
it). Shared: `SETTLE_ENV` (development | production), `SETTLE_INTERNAL_SECRET`, `LOG_LEVEL`, and
the standard `OTEL_*` variables, which the OpenTelemetry SDK reads itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORTS = {"accounts": 50051, "disputes": 50052, "escalation": 50053, "gateway": 9090}
DEV_INTERNAL_SECRET = "settle-development-only-internal-secret"


class ConfigurationError(RuntimeError):
    """The process cannot start with this environment (e.g. a secret missing in production)."""


@overload
def _env(name: str, default: str, environ: Mapping[str, str] | None = None) -> str: ...
@overload
def _env(name: str, default: None, environ: Mapping[str, str] | None = None) -> str | None: ...
def _env(name: str, default: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    return value if value not in (None, "") else default


def service_addr(service: str, environ: Mapping[str, str] | None = None) -> str:
    return _env(f"{service.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[service]}", environ)


def default_sqlite_url(service: str) -> str:
    return f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / f'{service}.db'}"


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    listen_addr: str
    development: bool
    internal_secret: str
    log_level: str
    downstream: dict[str, str] = field(default_factory=dict)
    # How long an outgoing call may take unless the caller says otherwise.
    default_deadline_s: float = 5.0
    # Background workers (sweeper, outbox relay) can be switched off, e.g. for a read replica.
    workers_enabled: bool = True
    metrics_port: int | None = None

    @classmethod
    def from_env(
        cls,
        service: str,
        downstream: tuple[str, ...] = (),
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        development = _env("SETTLE_ENV", "development", environ) == "development"
        secret = _env("SETTLE_INTERNAL_SECRET", None, environ)
        if secret is None:
            if not development:
                raise ConfigurationError("SETTLE_INTERNAL_SECRET must be set outside development")
            secret = DEV_INTERNAL_SECRET
        metrics_port = _env(f"{service.upper()}_METRICS_PORT", None, environ)
        return cls(
            service=service,
            database_url=_env(
                f"{service.upper()}_DATABASE_URL", default_sqlite_url(service), environ
            ),
            listen_addr=service_addr(service, environ),
            development=development,
            internal_secret=secret,
            log_level=_env("LOG_LEVEL", "INFO", environ).upper(),
            downstream={name: service_addr(name, environ) for name in downstream},
            default_deadline_s=float(_env("SETTLE_DEFAULT_DEADLINE_S", "5", environ)),
            workers_enabled=_env("SETTLE_WORKERS", "on", environ) != "off",
            metrics_port=int(metrics_port) if metrics_port else None,
        )
