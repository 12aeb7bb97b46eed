"""The small pieces of the kit: filters and page tokens, etags, ids, signed identity, settings."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import actor
from common.errors import Aborted, InvalidArgument, Unauthenticated
from common.etag import check_etag, etag_of
from common.ids import new_id, parse_child_name, parse_name
from common.listing import Term, parse_bool, parse_date, parse_filter, parse_order_by
from common.settings import ConfigurationError, Settings

FIELDS = {"status": str, "due_date": parse_date, "flag": parse_bool}


def test_filter_terms_are_parsed_and_typed():
    terms = parse_filter(
        'status=OPEN AND due_date<2026-01-31 AND flag=true AND status!="A B"', FIELDS
    )
    assert terms == [
        Term("status", "=", "OPEN"),
        Term("due_date", "<", date(2026, 1, 31)),
        Term("flag", "=", True),
        Term("status", "!=", "A B"),
    ]


@pytest.mark.parametrize(
    "text", ["password=x", "status", "due_date<yesterday", "flag=maybe", "status=="]
)
def test_bad_filters_name_the_filter_field(text):
    with pytest.raises(InvalidArgument) as info:
        parse_filter(text, FIELDS)
    assert info.value.violations[0].field == "filter"


@given(st.text(max_size=80))
def test_any_filter_text_parses_or_is_invalid_argument(text):
    with contextlib.suppress(InvalidArgument):  # anything else (a crash) fails the test
        for term in parse_filter(text, FIELDS):
            assert term.field in FIELDS


def test_order_by_is_one_allowed_field_and_a_direction():
    assert parse_order_by("due_date desc", {"due_date"}, "x") == ("due_date", True)
    with pytest.raises(InvalidArgument):
        parse_order_by("drop table", {"due_date"}, "x")


def test_etags_are_opaque_and_checked():
    tag = etag_of("abc", 3)
    check_etag(tag, "abc", 3)
    check_etag("", "abc", 3)
    with pytest.raises(Aborted):
        check_etag(tag, "abc", 4)
    with pytest.raises(InvalidArgument):
        check_etag("", "abc", 3, required=True)


def test_ids_are_time_ordered_and_names_strict():
    ids = [new_id() for _ in range(50)]
    assert len(set(ids)) == 50 and all(len(i) == 32 for i in ids)
    assert parse_name(f"customers/{ids[0]}", "customers") == ids[0]
    for bad in ("", "customers/", f"invoices/{ids[0]}", "customers/../x", f"customers/{ids[0]}/x"):
        with pytest.raises(InvalidArgument):
            parse_name(bad, "customers")
    assert parse_child_name(
        f"customers/{ids[0]}/billingAccounts/{ids[1]}", "customers", "billingAccounts"
    ) == (ids[0], ids[1])


def test_identity_signature_round_trips_and_rejects_tampering():
    alice = actor.Actor("user:alice", ("collector",), "")
    metadata = dict(actor.sign(alice, "secret", now=1000))
    assert actor.verify(metadata, "secret", now=1000) == alice
    with pytest.raises(Unauthenticated):
        actor.verify(metadata, "other-secret", now=1000)
    with pytest.raises(Unauthenticated):
        actor.verify({**metadata, actor.HEADER_ROLES: "admin"}, "secret", now=1000)
    with pytest.raises(Unauthenticated):
        actor.verify(metadata, "secret", now=1000 + actor.MAX_SKEW_S + 1)
    with pytest.raises(Unauthenticated):
        actor.verify({}, "secret")


def test_settings_have_working_defaults_and_no_default_secret_in_production():
    dev = Settings.from_env("accounts", ("disputes",), environ={})
    assert (
        dev.database_url.startswith("sqlite+aiosqlite:///") and dev.listen_addr == "127.0.0.1:50051"
    )
    assert dev.downstream == {"disputes": "127.0.0.1:50052"}
    with pytest.raises(ConfigurationError):
        Settings.from_env("accounts", environ={"SETTLE_ENV": "production"})
    prod = Settings.from_env(
        "accounts",
        environ={
            "SETTLE_ENV": "production",
            "SETTLE_INTERNAL_SECRET": "s",
            "ACCOUNTS_ADDR": "0.0.0.0:1",
            "ACCOUNTS_DATABASE_URL": "postgresql+asyncpg://db/accounts",
        },
    )
    assert (prod.development, prod.listen_addr, prod.database_url) == (
        False,
        "0.0.0.0:1",
        "postgresql+asyncpg://db/accounts",
    )
