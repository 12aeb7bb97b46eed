"""Log lines: JSON off a terminal, the trace/span ids and the case id of the work they belong to,
level by LOG_LEVEL, and no personal data even when code passes some."""

from __future__ import annotations

import json

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from common import tracing
from common.logs import setup_logging
from common.redaction import REDACTED


@pytest.fixture
def json_logs(monkeypatch, capsys):
    saved = structlog.get_config()
    monkeypatch.setenv("LOG_FORMAT", "json")
    structlog.contextvars.clear_contextvars()

    def lines() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    yield lines
    structlog.contextvars.clear_contextvars()
    structlog.configure(**saved)


def test_lines_carry_trace_span_and_case_ids(json_logs):
    setup_logging("disputes", "INFO")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("resolve case") as span:
        tracing.about(case_id="c-42")
        structlog.get_logger("x").info("case resolved", outcome="CREDIT")
    structlog.get_logger("x").info("outside")
    inside, outside = json_logs()
    ctx = span.get_span_context()
    assert inside["trace_id"] == f"{ctx.trace_id:032x}"
    assert inside["span_id"] == f"{ctx.span_id:016x}"
    assert (inside["case_id"], inside["service"], inside["level"]) == ("c-42", "disputes", "info")
    assert inside["event"] == "case resolved" and inside["outcome"] == "CREDIT"
    assert "trace_id" not in outside


def test_level_comes_from_the_setting(json_logs):
    setup_logging("disputes", "WARNING")
    structlog.get_logger("x").info("chatter")
    structlog.get_logger("x").warning("worth reading")
    assert [line["event"] for line in json_logs()] == ["worth reading"]


def test_personal_data_never_reaches_a_line(json_logs):
    setup_logging("accounts", "INFO")
    log = structlog.get_logger("x")
    log.info("contact added for ana@acme.example", email="ana@acme.example", contact_name="Ana")
    try:
        raise ValueError("bad phone +49 30 1234567 for ana@acme.example")
    except ValueError:
        log.exception("import failed", customer_id="cu-1")
    added, failed = json_logs()
    assert added["email"] == REDACTED and added["contact_name"] == REDACTED
    assert added["event"] == f"contact added for {REDACTED}"
    assert failed["customer_id"] == "cu-1"
    text = json.dumps(failed)
    assert "ana@acme.example" not in text and "1234567" not in text
    assert "ValueError" in text  # the exception is still there, only scrubbed


def test_tracebacks_never_carry_frame_locals(json_logs):
    setup_logging("escalation", "INFO")

    def register(value: str) -> None:
        body = value  # a local a verbose traceback would print, under an innocent name  # noqa: F841
        raise RuntimeError("endpoint refused")

    try:
        register("whsec-very-secret-value")
    except RuntimeError:
        structlog.get_logger("x").exception("subscription failed")
    (line,) = json_logs()
    assert "endpoint refused" in json.dumps(line)
    assert "whsec-very-secret-value" not in json.dumps(line)
