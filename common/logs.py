"""structlog setup: JSON when not on a terminal (or LOG_FORMAT=json), readable otherwise; level by
LOG_LEVEL. Every line carries the trace and span ids of the work it belongs to, and whatever the
work bound to the log context: the server interceptor binds `rpc_method` and `request_id`;
`common.tracing.about(case_id=...)` / `working_on(...)` bind `case_id`, `escalation_id`,
`customer_id`, `invoice_id`, `event_id`. Personal data is removed before a line is written
(common/redaction.py): code should not log it, this is the safety net."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
import structlog.tracebacks
from opentelemetry import trace
from structlog.typing import EventDict, Processor

from common.redaction import redact_mapping


def _add_trace_ids(_logger: Any, _name: str, event: EventDict) -> EventDict:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
        event["span_id"] = format(span_context.span_id, "016x")
    return event


def redact_personal_data(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """Drops the values of keys that name personal data and masks emails/phone numbers in text
    (the message and rendered exceptions included)."""
    return redact_mapping(event)


def setup_logging(service: str, level: str = "INFO") -> None:
    as_json = os.environ.get("LOG_FORMAT", "").lower() == "json" or not sys.stderr.isatty()
    renderer: list[Processor] = (
        [
            # Structured tracebacks without frame locals: a local may hold a request, a secret or
            # a contact's details. Before redaction, so exception text is scrubbed too.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            redact_personal_data,
            structlog.processors.JSONRenderer(),
        ]
        if as_json
        else [redact_personal_data, structlog.dev.ConsoleRenderer()]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_ids,
            lambda _l, _n, event: {"service": service, **event},
            *renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
