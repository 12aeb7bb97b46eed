"""The shared edge validators (common/validation.py): each problem is one field violation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import validation as check
from common.errors import FieldViolation, InvalidArgument, Violations

ID = "0" * 31 + "1"


def problems(v: Violations) -> list[tuple[str, str]]:
    return [(x.field, x.description) for x in v.items]


# --- text -------------------------------------------------------------------------------------
def test_text_is_stripped_and_accepted():
    v = Violations()
    assert check.text("  Pricing dispute  ", "title", v, required=True) == "Pricing dispute"
    assert v.items == []


def test_required_text_missing_is_a_violation():
    v = Violations()
    assert check.text("   ", "title", v, required=True) == ""
    assert problems(v) == [("title", "is required")]


def test_nul_byte_is_a_violation():
    v = Violations()
    check.text("ref\x00", "dispute.external_ref", v)
    assert problems(v) == [("dispute.external_ref", "must not contain NUL characters")]


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "a\udc80b"])
def test_lone_surrogate_is_a_violation(surrogate):
    v = Violations()
    check.text(surrogate, "summary", v)
    assert problems(v) == [("summary", "must be valid Unicode text (no lone surrogates)")]


def test_paired_astral_characters_are_fine():
    v = Violations()
    assert check.text("ok 🙂 𝄞", "summary", v) == "ok 🙂 𝄞"
    assert v.items == []


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=50))
def test_any_valid_text_without_nul_within_limit_passes(value):
    v = Violations()
    check.text(value.replace("\x00", ""), "f", v)
    assert v.items == []


def test_violations_become_invalid_argument_with_every_field():
    v = Violations()
    check.text("\x00", "a", v)
    check.text("", "b", v, required=True)
    with pytest.raises(InvalidArgument) as caught:
        v.raise_if_any()
    assert [x.field for x in caught.value.violations] == ["a", "b"]


# --- codes and currencies ---------------------------------------------------------------------
@pytest.mark.parametrize("good", ["A", "PRICING", "SLA_BREACH", "D61_PLUS", "A" * 64])
def test_upper_snake_codes_are_accepted(good):
    v = Violations()
    assert check.code(f" {good} ", "reason_code", v) == good
    assert v.items == []


@pytest.mark.parametrize("bad", ["lower", "Mixed", "SLA BREACH", "1ST", "_X", "A" * 65, "X\x00"])
def test_other_codes_are_refused(bad):
    v = Violations()
    check.code(bad, "reason_code", v)
    assert problems(v) == [("reason_code", "must be an UPPER_SNAKE code of at most 64 characters")]


def test_code_required_or_optional():
    v = Violations()
    assert check.code("", "optional", v, required=False) == ""
    check.code("  ", "required", v)
    assert problems(v) == [("required", "is required")]


@pytest.mark.parametrize("good", ["EUR", "USD", "JPY", "KWD"])
def test_known_currencies_are_accepted(good):
    v = Violations()
    assert check.currency(good, "amount.currency_code", v) == good
    assert v.items == []


@pytest.mark.parametrize("bad", ["eur", "EURO", "XYZ", "E\x00R"])
def test_unknown_currencies_are_refused(bad):
    v = Violations()
    check.currency(bad, "currency_code", v)
    assert problems(v) == [("currency_code", "is not an ISO 4217 currency code")]


def test_currency_required_or_optional():
    v = Violations()
    assert check.currency("", "optional", v, required=False) == ""
    check.currency("", "required", v)
    assert problems(v) == [("required", "is required")]


# --- resource names ---------------------------------------------------------------------------
def test_resource_name_gives_its_id():
    v = Violations()
    assert check.resource_id(f"customers/{ID}", "customers", "customer", v) == ID
    assert v.items == []


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("", "is required"),
        (f"invoices/{ID}", "must look like 'customers/{id}'"),
        ("customers/not-an-id", "must look like 'customers/{id}'"),
        (f"customers/{ID}/x", "must look like 'customers/{id}'"),
        (f"customers/{ID[:-1]}\x00", "must look like 'customers/{id}'"),
    ],
)
def test_bad_resource_names_are_violations(name, description):
    v = Violations()
    assert check.resource_id(name, "customers", "invoice.customer", v) == ""
    assert problems(v) == [("invoice.customer", description)]


# --- update masks -----------------------------------------------------------------------------
ALLOWED = ("display_name", "credit_hold", "line2_text")


def test_empty_mask_means_every_allowed_field():
    v = Violations()
    assert check.update_mask("  ", iter(ALLOWED), v) == ALLOWED
    assert v.items == []


def test_snake_case_paths_are_kept_in_order():
    v = Violations()
    assert check.update_mask("credit_hold, display_name", ALLOWED, v) == (
        "credit_hold",
        "display_name",
    )
    assert v.items == []


def test_lower_camel_json_names_become_snake_case():
    v = Violations()
    assert check.update_mask("displayName,creditHold,line2Text", ALLOWED, v) == ALLOWED
    assert v.items == []


def test_the_same_field_twice_counts_once():
    v = Violations()
    assert check.update_mask("creditHold,credit_hold,", ALLOWED, v) == ("credit_hold",)


def test_unknown_paths_are_each_a_violation_on_the_named_field():
    v = Violations()
    kept = check.update_mask("colour,display_name,DisplayName", ALLOWED, v, "mask")
    assert kept == ("display_name",)
    updatable = "updatable: display_name, credit_hold, line2_text"
    assert problems(v) == [
        ("mask", f"'colour' is not an updatable field; {updatable}"),
        ("mask", f"'DisplayName' is not an updatable field; {updatable}"),
    ]


def test_a_long_bad_path_is_not_echoed_whole():
    v = Violations()
    check.update_mask("x" * 1000, ALLOWED, v)
    assert len(v.items[0].description) < 200


# --- timestamps -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("2026-03-01T09:00:00Z", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01t09:00:00z", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01T10:30:00+01:30", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01T09:00:00.5Z", datetime(2026, 3, 1, 9, 0, 0, 500_000, tzinfo=UTC)),
        ("2026-03-01T09:00:00.123456789Z", datetime(2026, 3, 1, 9, 0, 0, 123_456, tzinfo=UTC)),
    ],
)
def test_rfc3339_times_are_read_in_utc(given_text, expected):
    v = Violations()
    found = check.timestamp(given_text, "create_time", v)
    assert found == expected
    assert found is not None and found.utcoffset() == timedelta(0)
    assert v.items == []


def test_an_empty_timestamp_is_absent():
    v = Violations()
    assert check.timestamp(" ", "t", v) is None
    assert v.items == []


@pytest.mark.parametrize(
    "bad",
    ["2026-03-01T09:00:00", "2026-03-01", "2026-13-01T09:00:00Z", "yesterday", "2026-03-01T9:00Z"],
)
def test_bad_or_naive_timestamps_are_violations(bad):
    v = Violations()
    assert check.timestamp(bad, "due_time", v) is None
    assert [x.field for x in v.items] == ["due_time"]
    with pytest.raises(ValueError):
        check.rfc3339(bad)


def test_rfc3339_keeps_the_instant_of_any_offset():
    east = timezone(timedelta(hours=5, minutes=45))
    moment = datetime(2026, 6, 30, 23, 59, 59, tzinfo=east)
    assert check.rfc3339(moment.isoformat()) == moment


# --- repeated fields --------------------------------------------------------------------------
def test_repeated_field_is_bounded():
    v = Violations()
    check.repeated([1] * 20, "links", v, limit=20)
    assert v.items == []
    check.repeated([1] * 21, "links", v, limit=20)
    assert v.items == [FieldViolation("links", "must have at most 20 entries")]
