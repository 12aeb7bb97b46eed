"""The shared AR sample files (../shared/data/ar-sample), read in place, and an independent
reading of them for cross-checks. Missing files skip the tests that need them on a laptop; under
CI=true they fail them, so a CI run cannot pass without having tested the import."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.databases import IN_CI

SAMPLE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ar-sample"
CLEAN = SAMPLE_DIR / "WA_Fn-UseC_-Accounts-Receivable.csv"
DIRTY = SAMPLE_DIR / "WA_Fn-UseC_-Accounts-Receivable_with_missing.csv"


def sample(path: Path) -> Path:
    if not path.exists():
        if IN_CI:
            pytest.fail(f"shared sample data absent: {path}; CI=true requires it", pytrace=False)
        pytest.skip(f"shared sample data absent: {path}")
    return path


def _us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def open_on(path: Path, day: date) -> dict[str, Decimal]:
    """Open amount per bucket code on `day`, straight from the raw rows (open when
    InvoiceDate <= day < SettledDate; days past due = day − DueDate)."""
    totals: dict[str, Decimal] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if not _us_date(row["InvoiceDate"]) <= day < _us_date(row["SettledDate"]):
                continue
            days = (day - _us_date(row["DueDate"])).days
            code = (
                "CURRENT"
                if days <= 0
                else "D1_30"
                if days <= 30
                else "D31_60"
                if days <= 60
                else "D61_PLUS"
            )
            totals[code] = totals.get(code, Decimal(0)) + Decimal(row["InvoiceAmount"])
    return totals
