"""Both collector configurations (compose and Kubernetes): every pipeline uses only components
that are defined, traces and metrics each have a pipeline, and OTLP/gRPC is received on 4317 where
the processes send it."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import METRICS_PORT, PROCESSES, collector_config, k8s

KINDS = ("receivers", "processors", "exporters")


@pytest.mark.parametrize("which", ["compose", "k8s"])
def test_pipelines_reference_only_defined_components(which):
    config = collector_config(which)
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics"} <= set(pipelines)
    for name, pipeline in pipelines.items():
        for kind in KINDS:
            undefined = set(pipeline.get(kind, ())) - set(config.get(kind) or {})
            assert not undefined, f"{which} pipeline {name}: undefined {kind} {undefined}"
        assert pipeline["receivers"] and pipeline["exporters"]
    assert set(config["service"].get("extensions", ())) <= set(config.get("extensions", {}))
    assert "otlp" in pipelines["traces"]["receivers"]
    assert "prometheus" in pipelines["metrics"]["receivers"]
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_the_cluster_collector_scrapes_every_pod_and_is_reachable():
    (job,) = collector_config("k8s")["receivers"]["prometheus"]["config"]["scrape_configs"]
    names = {(n, sd["port"]) for sd in job["dns_sd_configs"] for n in sd["names"]}
    assert names == {(f"{p}-metrics.settle.svc.cluster.local", METRICS_PORT) for p in PROCESSES}
    (service,) = k8s("Service", "otel-collector")
    assert 4317 in {p["port"] for p in service["spec"]["ports"]}
    (deployment,) = k8s("Deployment", "otel-collector")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"] for e in container.get("env", ())}
    assert "TRACES_BACKEND_ENDPOINT" in env  # the ${env:...} the config refers to
