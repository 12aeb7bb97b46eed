"""Get a case / list 50 cases with filters (issue 7: ≥ 0.7 × the bare baseline), straight to
`python -m services.disputes` at C concurrent clients, over generated open cases with their
clocks (bench/data/clocks.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bench import launch
from bench.data import clocks
from bench.harness.env import BenchEnv
from bench.harness.measure import Plan, Variant, measure
from bench.harness.registry import scenario
from bench.harness.results import ScenarioResult
from settle.disputes.v1 import disputes_pb2 as dpb
from settle.disputes.v1.disputes_pb2_grpc import DisputesServiceStub

TARGET_RATIO, TIMEOUT_S, PAGE = 0.7, 30, 50
ENTRY = ("services.disputes",)


async def _dataset(env: BenchEnv):
    async def build():
        cs = clocks.ClockSet(history=0, pending=2 * env.mode.cases, due=0)
        db = await env.pg.create("cases", "disputes")
        print(f"  generating {env.mode.cases:,} open cases …", flush=True)
        await clocks.load(db.dsn, cs)
        return db, cs

    return await env.shared("cases", build)


def _get(cs, worker, seq) -> dpb.GetDisputeRequest:
    n = cs.open_lo + (worker * 7919 + seq * 104_729) % (cs.pending // 2)
    return dpb.GetDisputeRequest(name=f"disputes/{clocks.case_id(n)}")


def _list(cs, worker, seq) -> dpb.ListDisputesRequest:
    # resolve clocks started over the last 30 days run 10 days: due times span ~40 days
    since = datetime.now(UTC) - timedelta(days=20) + timedelta(hours=(worker * 31 + seq) % 700)
    stamp = since.strftime("%Y-%m-%dT%H:00:00Z")
    return dpb.ListDisputesRequest(
        filter=f"status=IN_PROGRESS AND due_time>={stamp}", order_by="due_time", page_size=PAGE
    )


def _timeless(answer):
    """The answer without what depends on the instant it was read (each clock's business time
    spent and remaining): the rest must be byte-for-byte the bare server's."""
    answer = type(answer).FromString(answer.SerializeToString())
    for case in answer.disputes if isinstance(answer, dpb.ListDisputesResponse) else [answer]:
        for clock in case.clocks:
            clock.ClearField("business_time_spent")
            clock.ClearField("business_time_remaining")
    return answer.SerializeToString()


async def _run(env: BenchEnv, result: ScenarioResult, method: str, make) -> None:
    db, cs = await _dataset(env)
    result.dataset = {"open_cases": cs.pending // 2, "rows": cs.rows}
    settle, bare = await asyncio.gather(
        launch.disputes(
            env, db, at=launch.address(), accounts=launch.address(), escalation=launch.address()
        ),
        launch.bare_disputes(env, db),
    )
    stubs = {
        "settle": DisputesServiceStub(launch.signed_channel(env, settle.address)),
        "bare-grpc": DisputesServiceStub(launch.bare_channel(env, bare.address)),
    }

    def rpc(name):
        call = getattr(stubs[name], method)
        return lambda w, s: call(make(cs, w, s), timeout=TIMEOUT_S)

    sample = await getattr(stubs["settle"], method)(make(cs, 0, 0), timeout=TIMEOUT_S)
    result.notes.append(f"a sample answer is {sample.ByteSize():,} bytes from Settle")
    answers = {
        name: [await getattr(stub, method)(make(cs, w, 0), timeout=TIMEOUT_S) for w in range(3)]
        for name, stub in stubs.items()
    }
    same = [_timeless(a) for a in answers["settle"]] == [_timeless(a) for a in answers["bare-grpc"]]
    result.checks["bare-grpc answers the same, but for the time read off each clock"] = same
    variants = [
        Variant("settle", "python -m services.disputes (OTEL_* unset), signed gRPC client",
                rpc("settle"), roles=launch.roles(env, db, [settle]),
                processes=launch.memory_of([settle])),
        Variant("bare-grpc", "bare grpc.aio server, the same statements with asyncpg in one "
                "transaction (calendar-time clock figures)", rpc("bare-grpc"),
                roles=launch.roles(env, db, [bare]), processes=launch.memory_of([bare]),
                baseline=True),
    ]  # fmt: skip
    mode = env.mode
    result.settings = {"concurrency": mode.concurrency, "repetitions": mode.reps,
                       "seconds_per_repetition": mode.duration_s}  # fmt: skip
    plan = Plan(concurrency=mode.concurrency, reps=mode.reps, duration_s=mode.duration_s,
                warmup_s=mode.warmup_s)  # fmt: skip
    result.variants = await measure(variants, plan, env.profile_dir)
    result.compute_ratios()
    ratio = result.ratios.get("settle", {}).get("bare-grpc")
    if ratio is None:
        result.fail(f"no ratio: {result.variant('settle').first_error}")
        return
    result.judge(ratio >= TARGET_RATIO, f"{ratio:.2f} × bare-grpc (target ≥ {TARGET_RATIO})")


@scenario("get_case", order=140, title="Get a case with items, clocks, notes (GetDispute)",
          target=f"≥ {TARGET_RATIO} × bare-grpc throughput", entry_points=ENTRY)  # fmt: skip
async def get_case(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "GetDispute", _get)


@scenario("list_cases", order=145,
          title=f"List {PAGE} open cases by due time (ListDisputes with filters)",
          target=f"≥ {TARGET_RATIO} × bare-grpc throughput", entry_points=ENTRY)  # fmt: skip
async def list_cases(env: BenchEnv, result: ScenarioResult) -> None:
    await _run(env, result, "ListDisputes", _list)
