"""`python -m gateway.devtoken --role R [--team T] [--subject S]` (what `make token` runs): prints a
JWT that the development gateway accepts. Refuses outside development mode, where tokens come
from the real identity provider. Empty flags (as `make token` passes them) take the defaults."""

from __future__ import annotations

import argparse
import sys

from common.settings import ConfigurationError
from gateway.access import ROLES
from gateway.auth.tokens import mint
from gateway.settings import GatewaySettings

TEAM_OF_ROLE = {"sales": "SALES", "gbs": "GBS", "legal": "LEGAL"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.devtoken", description=__doc__)
    parser.add_argument(
        "--role", default="", help=f"comma-separated: {', '.join(ROLES)} (default collector)"
    )
    parser.add_argument("--team", default="", help="e.g. SALES (default: the team of a team role)")
    parser.add_argument("--subject", default="", help="who it is (default dev-<role>)")
    parser.add_argument("--hours", type=float, default=8.0, help="lifetime (default 8)")
    options = parser.parse_args(argv)
    roles = [r.strip() for r in (options.role or "collector").split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        parser.error(f"unknown role {', '.join(unknown)}; roles: {', '.join(ROLES)}")
    team = (options.team or next((TEAM_OF_ROLE[r] for r in roles if r in TEAM_OF_ROLE), "")).upper()
    try:
        settings = GatewaySettings.from_env()
    except ConfigurationError as exc:
        print(f"devtoken: {exc}", file=sys.stderr)
        return 2
    if not settings.development or settings.jwt is None or settings.jwt.algorithm != "HS256":
        print(
            "devtoken: only in development mode (SETTLE_ENV=development) with an HS256 secret",
            file=sys.stderr,
        )
        return 2
    subject = options.subject or f"dev-{roles[0].replace('_', '-')}"
    print(mint(settings.jwt, subject, roles, team, ttl_s=options.hours * 3600))
    return 0


if __name__ == "__main__":
    sys.exit(main())
