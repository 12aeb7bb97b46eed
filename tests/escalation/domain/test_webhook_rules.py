"""Webhook rules, pure: signature, endpoint and secret checks, backoff."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from common.errors import Violations
from common.webhooks import check_endpoint, sign, verify
from services.escalation.domain.webhooks import RetryPolicy


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"type":"escalation.raised"}'
    expected = hmac.new(b"secret-secret-16", body, hashlib.sha256).hexdigest()
    assert sign("secret-secret-16", body) == f"sha256={expected}"
    assert verify("secret-secret-16", body, f"sha256={expected}")
    assert not verify("secret-secret-16", body + b" ", f"sha256={expected}")
    assert not verify("another-secret-16", body, f"sha256={expected}")
    assert not verify("secret-secret-16", body, "")


def fields(uri: str) -> list[str]:
    v = Violations()
    check_endpoint(uri, "uri", v)
    return [x.description for x in v.items]


def test_endpoints():
    assert fields("https://hooks.example/settle?team=gbs") == []
    assert fields("http://127.0.0.1:8080/hook") == []
    for bad in (
        "",
        "ftp://x/y",
        "https://",
        "https://u:p@x/y",
        "https://x/#frag",
        "https://x:99999/",
        "javascript:alert(1)",
        "https://x/" + "a" * 2000,
    ):
        assert fields(bad), bad


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_is_capped_and_jittered_within_half(attempts):
    policy = RetryPolicy(max_attempts=20, base=timedelta(seconds=1), ceiling=timedelta(hours=1))
    delay = policy.delay(attempts)
    top = min(timedelta(hours=1), timedelta(seconds=2 ** min(attempts - 1, 30)))
    assert top / 2 <= delay <= top
    assert policy.exhausted(attempts) == (attempts >= 20)
