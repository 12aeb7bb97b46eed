"""docs/sre.md stays true: the metric names it shows are the ones served, every instrument is
documented, and the functions it tells service code to call exist."""

from __future__ import annotations

import re

from common import metrics, tracing
from common.metrics import SettleMetrics
from common.settings import PROJECT_ROOT
from common.telemetry import Telemetry
from tests.deploy.exported import exported_metrics

DOC = (PROJECT_ROOT / "docs" / "sre.md").read_text()


def test_every_prometheus_name_in_the_doc_is_served():
    served = exported_metrics()
    families = {n.removesuffix(s) for n in served for s in ("_count", "_sum", "_bucket")}
    labels = set().union(*served.values())
    mentioned = set(re.findall(r"\b(?:settle|rpc)_[a-z0-9_]*[a-z0-9]", DOC))
    unknown = mentioned - set(served) - families - labels
    assert "settle_sla_breaches_total" in mentioned and not unknown, unknown


def test_every_instrument_is_documented():
    names = [v for k, v in vars(metrics).items() if k.isupper() and isinstance(v, str)
             and v.startswith(("settle.", "rpc."))]  # fmt: skip
    assert len(names) == 18  # 14 + promises, promises.broken, worklist.size, .completion
    assert [n for n in names if f"`{n}`" not in DOC] == []


def test_the_api_the_doc_names_exists():
    for name in re.findall(r"`metrics\.(\w+)\(", DOC):
        assert hasattr(SettleMetrics, name), name
    for name in re.findall(r"`telemetry\.(\w+)", DOC):
        assert hasattr(Telemetry, name) or name in Telemetry.__dataclass_fields__, name
    for name in ("about", "working_on", "current_traceparent", "clock_event", "breach_span",
                 "linked_span", "trace_id_of", "annotate"):  # fmt: skip
        assert f"{name}(" in DOC and callable(getattr(tracing, name))
