"""Authorisation by the access table (gateway/access.py): which RPCs are exposed at all, and
which roles may call each. Object-level rules belong to the services (common/team_scope.py)."""

from __future__ import annotations

import structlog

from common.actor import Actor
from common.errors import PermissionDenied
from common.team_scope import team_scope
from gateway.access import ACCESS, INTERNAL
from gateway.catalog import Catalog, Rpc

log = structlog.get_logger("settle.gateway")


class Policy:
    def __init__(self, table: dict[str, tuple[str, ...] | str] = ACCESS):
        self.table = table

    def exposed(self, rpc: Rpc) -> bool:
        entry = self.table.get(rpc.name)
        return entry is not None and entry != INTERNAL

    def public_rpcs(self, catalog: Catalog) -> tuple[Rpc, ...]:
        missing = [rpc.name for rpc in catalog.rpcs if rpc.name not in self.table]
        if missing:  # fail closed: an RPC nobody decided on is not reachable
            log.warning("RPCs missing from gateway/access.py are not exposed", rpcs=missing)
        return tuple(rpc for rpc in catalog.rpcs if self.exposed(rpc))

    def authorize(self, actor: Actor, rpc: Rpc) -> None:
        allowed = self.table.get(rpc.name, ())
        if allowed == INTERNAL or not actor.has_role(*allowed):
            raise PermissionDenied(
                f"{rpc.descriptor.name} is not allowed for roles [{', '.join(actor.roles)}]",
                reason="ROLE_NOT_ALLOWED",
            )
        if team_scope(actor) == "":
            raise PermissionDenied(
                "Sales, GBS and Legal users need a team in their token", reason="TEAM_REQUIRED"
            )
