"""The shared AR sample files: absent on a laptop they skip their tests, absent in CI they fail."""

from __future__ import annotations

import pytest

from tests.support import ar_sample


def test_a_missing_sample_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(ar_sample, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        ar_sample.sample(tmp_path / "absent.csv")


def test_a_missing_sample_skips_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(ar_sample, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        ar_sample.sample(tmp_path / "absent.csv")


def test_a_present_sample_is_returned(tmp_path):
    present = tmp_path / "present.csv"
    present.write_text("InvoiceDate\n")
    assert ar_sample.sample(present) == present
