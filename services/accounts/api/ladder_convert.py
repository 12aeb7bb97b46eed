"""Dunning ladder versions -> protobuf."""

from __future__ import annotations

from common.protoconv import minor_pb, timestamp
from services.accounts.data.ladder_reads import LadderVersionRead
from settle.accounts.v1 import accounts_pb2 as pb


def ladder_version(read: LadderVersionRead) -> pb.DunningLadderVersion:
    ladder = read.ladder
    return pb.DunningLadderVersion(
        name=f"dunningLadders/{ladder.ladder_id}/versions/{ladder.version}",
        version=ladder.version,
        effective_from=ladder.effective_from.isoformat(),
        levels=[
            pb.DunningLevel(
                number=level.number,
                code=level.code,
                offset_days=level.offset_days,
                channel=level.channel.value,
                template_id=level.template_id,
                min_days_between=level.min_days_between,
                actions=[a.value for a in level.actions],
                tolerances=[minor_pb(m, c) for c, m in sorted(level.tolerance.items())],
            )
            for level in ladder.levels
        ],
        create_time=timestamp(read.created_at),
        creator=read.created_by,
    )
