"""The console's settings from the environment, with defaults that work for `make run`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import ConfigurationError

DEV_SESSION_SECRET = "settle-development-only-console-session-secret"
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class ConsoleSettings:
    listen_addr: str
    gateway_url: str
    development: bool
    session_secret: str
    # e.g. "http://jaeger:16686/trace/{trace_id}"; empty shows trace ids without links.
    trace_url: str
    session_hours: float = 8.0

    @property
    def host(self) -> str:
        return self.listen_addr.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen_addr.rsplit(":", 1)[1])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConsoleSettings:
        env = environ if environ is not None else os.environ

        def get(name: str, default: str = "") -> str:
            return env.get(name) or default

        development = get("SETTLE_ENV", "development") == "development"
        gateway_http = get("GATEWAY_HTTP_ADDR", "127.0.0.1:8080")
        secret = get("CONSOLE_SESSION_SECRET", DEV_SESSION_SECRET if development else "")
        if not development and len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"outside development the console needs CONSOLE_SESSION_SECRET "
                f"(at least {MIN_SECRET_BYTES} bytes) to sign its session cookies"
            )
        return cls(
            listen_addr=get("CONSOLE_ADDR", "127.0.0.1:8081"),
            gateway_url=get("CONSOLE_GATEWAY_URL", f"http://{gateway_http}").rstrip("/"),
            development=development,
            session_secret=secret,
            trace_url=get("CONSOLE_TRACE_URL"),
        )
