"""The dunning ladder's versions (versioned data, issue 14): store the next version of a ladder,
read one, list a ladder's versions. A stored version is never changed; the run on a business
date uses the newest version in effect on it (data/ladder_reads.py), so a new version effective
today is what the next run uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from common.actor import current_actor
from common.errors import Violations
from common.idempotency import RequestKey, run_once
from common.listing import Page
from services.accounts.data import dunning_rows, ladder_reads
from services.accounts.data.dunning_models import (
    DunningLadderRow,
    DunningLevelRow,
    DunningToleranceRow,
)
from services.accounts.data.ladder_reads import LadderVersionRead
from services.accounts.data.repository import missing
from services.accounts.domain.ladder import Ladder, Level
from services.accounts.service.context import AccountsContext

FIELD = "ladder_version"


async def create_version(
    ctx: AccountsContext,
    ladder_id: str,
    effective_from: date | None,
    levels: Sequence[Level],
    template_exists: Callable[[str], bool],
    request: RequestKey,
) -> LadderVersionRead:
    """The ladder's next version, effective from `effective_from` (default today, never
    earlier: runs already made stay explained by the version they used)."""
    today, now = ctx.clock.today(), ctx.clock.now()
    creator = current_actor().subject
    v = Violations()
    v.require(
        effective_from is None or effective_from >= today,
        f"{FIELD}.effective_from", "must be today or later",
    )  # fmt: skip
    for i, level in enumerate(levels):
        v.require(
            template_exists(level.template_id),
            f"{FIELD}.levels[{i}].template_id", "is not a notice template of the service",
        )  # fmt: skip
    v.raise_if_any()

    async def create(session):
        last = await ladder_reads.last_version(session, ladder_id)
        if last is None:
            raise missing("dunning ladder", ladder_id)
        ladder = Ladder(ladder_id, (last or 0) + 1, effective_from or today, tuple(levels))
        version, level_rows, tolerance_rows = dunning_rows.ladder_version(ladder, now, creator)
        session.add(DunningLadderRow(**version))
        session.add_all([DunningLevelRow(**row) for row in level_rows])
        session.add_all([DunningToleranceRow(**row) for row in tolerance_rows])
        return f"{ladder_id}/{ladder.version}", LadderVersionRead(ladder, now, creator)

    async def replay(session, resource_id: str) -> LadderVersionRead:
        stored_ladder, number = resource_id.rsplit("/", 1)
        return await ladder_reads.version(session, stored_ladder, int(number))

    return await run_once(
        ctx.db, ctx.idempotency, "CreateDunningLadderVersion", request, create, replay
    )


async def get_version(ctx: AccountsContext, ladder_id: str, number: int) -> LadderVersionRead:
    async with ctx.db.reading_connection() as conn:
        return await ladder_reads.version(conn, ladder_id, number)


async def list_versions(
    ctx: AccountsContext, ladder_id: str, page: Page
) -> list[LadderVersionRead]:
    async with ctx.db.reading_connection() as conn:
        return await ladder_reads.versions(conn, ladder_id, page.offset, page.size)
