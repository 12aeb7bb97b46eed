"""The suggested alerts (deploy/prometheus/alerts.yaml) parse and use only metrics that exist."""

from __future__ import annotations

import re

import yaml

from tests.deploy.exported import exported_metrics
from tests.deploy.manifests import DEPLOY, compose

SELECTOR = re.compile(r"\b((?:settle|rpc)_[a-z0-9_]+)(?:\{([^}]*)\})?")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
# Labels the scrape adds (target labels of deploy/otel-collector.yaml) and histogram buckets.
SCRAPE_LABELS = {"job", "instance", "service", "le"}


def rules() -> list[dict]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_uses_exported_metrics_and_their_labels():
    exported = exported_metrics()
    assert "settle_sla_breaches_total" in exported  # the list is real, not empty
    for rule in rules():
        selectors = SELECTOR.findall(GROUPING.sub("", rule["expr"]))
        if rule["expr"].startswith("up{"):  # Prometheus' own: the scrape failed
            assert 'job="settle"' in rule["expr"]
            continue
        assert selectors, f"{rule['alert']} uses no Settle metric"
        for metric, matchers in selectors:
            assert metric in exported, f"{rule['alert']}: {metric} is not exported"
            used = {m.split("=")[0].rstrip("!~").strip() for m in matchers.split(",") if m}
            grouped = {
                g.strip() for group in GROUPING.findall(rule["expr"]) for g in group.split(",")
            }
            unknown = (used | grouped) - exported[metric] - SCRAPE_LABELS
            assert not unknown, f"{rule['alert']}: {metric} has no labels {unknown}"
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]


def test_the_breach_alert_exists_and_prometheus_loads_the_rules():
    assert {"SettleSlaBreached", "SettleSweeperLagging", "SettleOutboxLagging"} <= {
        r["alert"] for r in rules()
    }
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yaml").read_text())
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yaml"]
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./prometheus/alerts.yaml:/etc/prometheus/alerts.yaml:ro" in mounts
    (job,) = prometheus["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["otel-collector:8889"]
