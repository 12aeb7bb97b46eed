"""`python -m console`: serve the console on CONSOLE_ADDR (127.0.0.1:8081) and print its address."""

from __future__ import annotations

import sys

import uvicorn

from common.settings import ConfigurationError
from console.app import assemble
from console.config import ConsoleSettings

# Live queue relays never finish on their own: a stop waits this long for them, then ends them.
GRACEFUL_SHUTDOWN_S = 3


def main() -> int:
    try:
        settings = ConsoleSettings.from_env()
    except ConfigurationError as exc:
        print(f"console: {exc}", file=sys.stderr)
        return 2
    app = assemble(settings)
    print(
        f"  {'console':<11} http://{settings.listen_addr:<21} "
        f"(gateway {settings.gateway_url}; sign in as a collector)",
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
