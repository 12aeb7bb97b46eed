"""Schemathesis (pinned in pyproject's dev dependencies) against the real gateway and services,
once per role: every check, seeded, bounded in time, in two runs: the examples, coverage and
fuzzing phases, then the stateful phase alone (so that it has time of its own), following the
document's links (create → get, update, actions) and nothing Schemathesis would guess. The
document must tell the truth about what the API answers: no server error (a 503 of a real outage
aside), no response outside its declared schema, and no request outside the schema accepted.
Failures of the other checks are printed with their requests; the rules OpenAPI cannot express
are listed in docs/gateway.md ("What the OpenAPI document cannot say")."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.gateway.support import token

# One run per role the issue names; a SALES member's token carries the SALES team.
ROLES = {
    "collector": ("collector",),
    "sales": ("sales",),
    "team_lead": ("team_lead",),
    "admin": ("admin",),
}
SEED = 17
# Per role and run: 4 roles × (10 + 6) s, with start-up about 90 s on two cores: what CI's
# 15-minute budget leaves beside the rest of the suite and the chaos run.
SECONDS = {"examples,coverage,fuzzing": 10, "stateful": 6}
# A request too large for the gateway is refused with 413 before it is read (declared in the
# document with the other error statuses): a right answer to schema-violating data too.
# The stateful phase follows the document's links only: inferred ones guess (e.g. that a
# resource name fills an id parameter) and would test Schemathesis' guesses, not the document.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428"]

[phases.stateful.inference]
algorithms = []
"""
# Checks whose every failure fails the test; the others' are reported.
MUST_HOLD = ("not_a_server_error", "response_schema_conformance", "negative_data_rejection")


def _run(stack, role: str, phases: str, report_dir: Path) -> tuple[Path, str]:
    url = f"http://127.0.0.1:{stack.gateway.http_port}"
    bearer = token(ROLES[role], subject=f"schemathesis-{role}", ttl_s=3600)
    config = report_dir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {bearer}",
        "--checks",
        "all",
        "--phases",
        phases,
        "--seed",
        str(SEED),
        "--max-time",
        str(SECONDS[phases]),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report_dir / f"{role}-{phases}.ndjson"),
    ]
    # In the report's folder: Schemathesis keeps a cache of past failures (.schemathesis/) in
    # its working directory, which would make a run depend on the ones before it.
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=report_dir)
    report = report_dir / f"{role}-{phases}.ndjson"
    output = finished.stdout[-3000:] + finished.stderr[-3000:]
    assert report.exists(), output
    return report, output


def _text(payload) -> str:
    if isinstance(payload, dict) and "$base64" in payload:
        return base64.b64decode(payload["$base64"]).decode("utf-8", "replace")
    return "" if payload is None else str(payload)


class Results:
    def __init__(self):
        self.requests = 0
        self.chains = 0  # stateful scenarios that followed at least one link
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.failures: dict[str, list[str]] = defaultdict(list)


def _results(report: Path, results: Results) -> None:
    """Adds the report's requests, per-check outcome counts, and each failure as one readable
    line."""
    requests, counts, failures = 0, results.counts, results.failures
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "ScenarioFinished" not in event:
            continue
        recorder = event["ScenarioFinished"]["recorder"]
        sent = len(recorder.get("interactions", {}))
        requests += sent
        if event["ScenarioFinished"].get("phase") == "stateful" and sent > 1:
            results.chains += 1
        for case, checks in recorder.get("checks", {}).items():
            for check in checks:
                counts[check["name"]][check["status"]] += 1
                if check["status"] != "failure":
                    continue
                sent = recorder["interactions"].get(case, {})
                request, response = sent.get("request", {}), sent.get("response") or {}
                if check["name"] == "not_a_server_error" and response.get("status_code") == 503:
                    continue  # a real outage: the document declares it
                failures[check["name"]].append(
                    f"{recorder['label']}: {request.get('method')} {request.get('uri', '')[:300]}"
                    f" body={_text(request.get('body'))[:300]!r}"
                    f" -> {response.get('status_code')} {_text(response.get('body'))[:300]!r}"
                )
    results.requests += requests


@pytest.mark.parametrize("role", sorted(ROLES))
def test_schemathesis_no_server_error_no_response_off_schema_no_bad_request_accepted(
    stack, role, tmp_path
):
    results, outputs = Results(), []
    for phases in SECONDS:
        report, output = _run(stack, role, phases, tmp_path)
        _results(report, results)
        outputs.append(output)
    counts, failures = results.counts, results.failures
    summary = "\n".join(
        f"  {name:30} passed {c['success']:6} failed {c['failure']:4} skipped {c['skip']:4}"
        for name, c in sorted(counts.items())
    )
    print(
        f"\nschemathesis, role {role}: {results.requests} requests, "
        f"{results.chains} stateful chains\n{summary}"
    )
    for name, lines in sorted(failures.items()):
        print(f"  {name}: {len(lines)} failing cases, e.g.\n    " + "\n    ".join(lines[:5]))
    assert results.requests > 100 and set(MUST_HOLD) <= set(counts), "\n".join(outputs)
    assert results.chains > 0, "the stateful phase followed no link:\n" + outputs[-1]
    broken = {name: failures[name] for name in MUST_HOLD if failures[name]}
    assert not broken, json.dumps(broken, indent=1)[:6000]
