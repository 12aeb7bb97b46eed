"""Database spans are made inside recorded traces only: with every new trace sampled, a statement
in a request gets its span (exported over real OTLP); one outside any trace (a worker's idle poll)
gets none, and neither does one under a request that was sampled out."""

from __future__ import annotations

import uuid

from sqlalchemy import event, text

from common.db import Database
from common.telemetry import build_telemetry


async def _telemetry(clean_env, otlp, ratio: str):
    service = f"db-spans-{uuid.uuid4().hex[:6]}"
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint)
    clean_env.setenv("OTEL_SERVICE_NAME", service)
    clean_env.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    clean_env.setenv("OTEL_TRACES_SAMPLER_ARG", ratio)
    return service, build_telemetry("probe")


async def test_statements_get_spans_only_inside_a_recorded_trace(clean_env, otlp, tmp_path):
    service, telemetry = await _telemetry(clean_env, otlp, "1")
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'spans.db'}")
    telemetry.instrument_engine(db.engine)
    tracer = telemetry.tracer()
    try:
        async with db.reading() as session:
            await session.execute(text("SELECT 'outside'"))
        with tracer.start_as_current_span("request"):
            async with db.reading() as session:
                await session.execute(text("SELECT 'inside'"))
        telemetry.flush()
        spans = await otlp.until(lambda r: len(r.spans_for(service)) >= 2 and r.spans_for(service))
    finally:
        await db.dispose()
        await telemetry.shutdown()
    statements = [s.attributes.get("db.statement") for s in spans if "db.system" in s.attributes]
    assert statements == ["SELECT 'inside'"]
    request = next(s for s in spans if s.name == "request")
    assert all(s.parent_span_id == request.span_id for s in spans if "db.system" in s.attributes)


async def test_a_sampled_out_request_gets_no_statement_spans(clean_env, otlp, tmp_path):
    _, telemetry = await _telemetry(clean_env, otlp, "0")
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'spans.db'}")
    telemetry.instrument_engine(db.engine)
    seen = []
    event.listen(db.engine.sync_engine, "after_cursor_execute", lambda *a: seen.append(a[4]))
    try:
        with telemetry.tracer().start_as_current_span("request") as span:
            assert not span.is_recording()
            async with db.reading() as session:
                await session.execute(text("SELECT 1"))
    finally:
        await db.dispose()
        await telemetry.shutdown()
    assert [getattr(context, "_otel_span", None) for context in seen] == [None]
