"""The dunning ladder's versions through a real gRPC server, on SQLite and PostgreSQL: a new
version (validated field by field, idempotent by request_id) is what the next run uses from
its effective date; stored versions are listed newest first and never change."""

from __future__ import annotations

from datetime import timedelta

import grpc

from common.actor import reset_actor
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.dunning_support import CARL, LENA, eur
from tests.support.rpc import as_actor, expect_error

DEFAULT = "dunningLadders/default"


def _level(number, code, offset, template, actions=("NOTICE",), channel="EMAIL", pacing=7):
    return pb.DunningLevel(
        number=number, code=code, offset_days=offset, channel=channel, template_id=template,
        min_days_between=pacing, actions=list(actions), tolerances=[eur("5.00")],
    )  # fmt: skip


SHORT = [_level(1, "NUDGE", 3, "friendly"), _level(2, "FIRM_NOW", 20, "firm")]


async def test_a_new_version_is_what_the_next_run_uses(dunning):
    stub = dunning.stub
    (seed,) = (
        await stub.ListDunningLadderVersions(pb.ListDunningLadderVersionsRequest(parent=DEFAULT))
    ).ladder_versions
    assert seed.name == f"{DEFAULT}/versions/1" and len(seed.levels) == 7
    assert seed.levels[6].code == "LEGAL" and list(seed.levels[6].actions) == [
        "NOTICE", "ESCALATE_LEGAL",
    ]  # fmt: skip

    later = await stub.CreateDunningLadderVersion(
        pb.CreateDunningLadderVersionRequest(
            parent=DEFAULT,
            ladder_version=pb.DunningLadderVersion(effective_from="2026-03-03", levels=SHORT),
            request_id="ladder-later",
        )
    )
    assert later.version == 2 and later.effective_from == "2026-03-03"
    request = pb.CreateDunningLadderVersionRequest(
        parent=DEFAULT, ladder_version=pb.DunningLadderVersion(levels=SHORT), request_id="now"
    )
    created = await stub.CreateDunningLadderVersion(request)
    assert created.name == f"{DEFAULT}/versions/3" and created.effective_from == "2026-03-02"
    assert [(lv.code, lv.offset_days, lv.template_id) for lv in created.levels] == [
        ("NUDGE", 3, "friendly"), ("FIRM_NOW", 20, "firm"),
    ]  # fmt: skip
    assert await stub.CreateDunningLadderVersion(request) == created  # replayed, not stored again
    got = await stub.GetDunningLadderVersion(pb.GetDunningLadderVersionRequest(name=created.name))
    assert got == created
    listed = await stub.ListDunningLadderVersions(
        pb.ListDunningLadderVersionsRequest(parent=DEFAULT)
    )
    assert [v.version for v in listed.ladder_versions] == [3, 2, 1]

    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)  # 31 days overdue
    run = await dunning.run(customer)
    (decision,) = run.decisions
    assert decision.outcome == "NOTICE" and decision.level == 2  # FIRM_NOW of version 3
    (notice,) = await dunning.notices(customer)
    assert notice.level_code == "FIRM_NOW" and notice.ladder == "default v3"


async def test_a_version_records_who_created_it_and_when(dunning):
    stub = dunning.stub
    seed = await stub.GetDunningLadderVersion(
        pb.GetDunningLadderVersionRequest(name=f"{DEFAULT}/versions/1")
    )
    assert seed.creator == "system"  # stored by the migration
    created_at = dunning.clock.now()
    request = pb.CreateDunningLadderVersionRequest(
        parent=DEFAULT,
        # the caller's claim to be someone else is output-only: ignored
        ladder_version=pb.DunningLadderVersion(levels=SHORT, creator="user:mallory"),
        request_id="by-carl",
    )
    created = await stub.CreateDunningLadderVersion(request)  # the desk calls as Carl
    assert created.creator == CARL
    assert created.create_time.ToDatetime(tzinfo=created_at.tzinfo) == created_at

    dunning.clock.advance(timedelta(hours=2))
    token = as_actor(LENA, "team_lead")
    try:
        replayed = await stub.CreateDunningLadderVersion(request)  # Carl's, not Lena's
        got = await stub.GetDunningLadderVersion(
            pb.GetDunningLadderVersionRequest(name=created.name)
        )
        newer = await stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(
                parent=DEFAULT, ladder_version=pb.DunningLadderVersion(levels=SHORT)
            )
        )
    finally:
        reset_actor(token)
    assert replayed == created and got == created
    assert newer.creator == LENA and newer.create_time.ToDatetime(
        tzinfo=created_at.tzinfo
    ) == created_at + timedelta(hours=2)
    listed = await stub.ListDunningLadderVersions(
        pb.ListDunningLadderVersionsRequest(parent=DEFAULT)
    )
    assert [(v.version, v.creator) for v in listed.ladder_versions] == [
        (3, LENA), (2, CARL), (1, "system"),
    ]  # fmt: skip


async def test_a_version_takes_effect_on_its_date_only(dunning):
    await dunning.stub.CreateDunningLadderVersion(
        pb.CreateDunningLadderVersionRequest(
            parent=DEFAULT,
            ladder_version=pb.DunningLadderVersion(effective_from="2026-03-03", levels=SHORT),
        )
    )
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    run = await dunning.run(customer)  # on 2026-03-02: still version 1, level 4 (FIRM)
    assert run.decisions[0].level == 4
    (notice,) = await dunning.notices(customer)
    assert notice.ladder == "default v1" and notice.level_code == "FIRM"


async def test_a_version_is_validated_field_by_field(dunning):
    stub = dunning.stub
    bad = [
        _level(2, "lower", 5, "friendly", actions=("NOTICE", "NOTICE", "SHOUT"), channel="FAX"),
        _level(2, "SECOND", 5, "../_email", pacing=-1),
    ]
    await expect_error(
        stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(
                parent=DEFAULT,
                ladder_version=pb.DunningLadderVersion(effective_from="2026-13-01", levels=bad),
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=(
            "ladder_version.effective_from",
            "ladder_version.levels[0].number",
            "ladder_version.levels[0].code",
            "ladder_version.levels[0].channel",
            "ladder_version.levels[0].actions",
            "ladder_version.levels[1].offset_days",
            "ladder_version.levels[1].min_days_between",
        ),
    )
    await expect_error(
        stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(
                parent=DEFAULT, ladder_version=pb.DunningLadderVersion()
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="ladder_version.levels",
    )
    past_and_unknown = pb.DunningLadderVersion(
        effective_from="2026-03-01",
        levels=[_level(1, "ONE", 1, "friendly"), _level(2, "TWO", 9, "no_such_template")],
    )
    await expect_error(
        stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(parent=DEFAULT, ladder_version=past_and_unknown)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("ladder_version.effective_from", "ladder_version.levels[1].template_id"),
    )
    await expect_error(
        stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(
                parent="dunningLadders/nope", ladder_version=pb.DunningLadderVersion(levels=SHORT)
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        stub.CreateDunningLadderVersion(
            pb.CreateDunningLadderVersionRequest(
                parent="ladders/Default", ladder_version=pb.DunningLadderVersion(levels=SHORT)
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="parent",
    )
    await expect_error(
        stub.GetDunningLadderVersion(
            pb.GetDunningLadderVersionRequest(name=f"{DEFAULT}/versions/9")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        stub.GetDunningLadderVersion(pb.GetDunningLadderVersionRequest(name=f"{DEFAULT}/v/x")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="name",
    )
    listed = await stub.ListDunningLadderVersions(
        pb.ListDunningLadderVersionsRequest(parent=DEFAULT)
    )
    assert [v.version for v in listed.ladder_versions] == [1]  # nothing refused was stored
