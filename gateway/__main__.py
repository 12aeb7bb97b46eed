"""`python -m gateway`: the HTTP/JSON and gRPC front door (see docs/gateway.md)."""

from __future__ import annotations

import asyncio
import sys

from common.logs import setup_logging
from common.main import freeze_start_up
from common.settings import ConfigurationError
from common.telemetry import setup_telemetry
from gateway.server import Gateway
from gateway.settings import GatewaySettings


async def _serve(settings: GatewaySettings) -> None:
    telemetry = setup_telemetry("gateway", settings.base.metrics_port)
    try:
        await Gateway(
            settings,
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
        ).run_until_signalled()
    finally:
        await telemetry.shutdown()


def main() -> int:
    try:
        settings = GatewaySettings.from_env()
    except ConfigurationError as exc:
        print(f"gateway: refusing to start: {exc}", file=sys.stderr)
        return 2
    setup_logging("gateway", settings.base.log_level)
    freeze_start_up()
    asyncio.run(_serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
