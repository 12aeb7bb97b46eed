"""Page tokens are opaque and tamper-evident: signed with a key of the service's own, bound to the
query that made them; anything forged, altered, from another query or another service is
INVALID_ARGUMENT naming page_token, and offsets stay within MAX_OFFSET (issue 17 defect 3)."""

from __future__ import annotations

import base64
import json

import pytest

from common.errors import InvalidArgument
from common.listing import MAX_OFFSET, MAX_PAGE_SIZE, Page, PageTokens

TOKENS = PageTokens("test-secret", "accounts")


def _refused(tokens: PageTokens, token: str, key: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        tokens.page(2, token, key)
    assert refused.value.violations[0].field == "page_token"


def test_a_full_page_has_a_token_for_the_next_one_bound_to_its_query():
    page = TOKENS.page(2, "", "q1")
    token = TOKENS.next_token(page, 2, "q1")
    assert TOKENS.page(2, token, "q1").offset == 2
    assert TOKENS.next_token(page, 1, "q1") == ""  # a short page is the last one
    for bad in (token, "garbage", "e30="):
        _refused(TOKENS, bad, "q2")
    assert TOKENS.page(5000, "", "q").size == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        TOKENS.page(-1, "", "q")


def test_a_token_says_nothing_readable():
    token = TOKENS.next_token(Page(40, 10), 10, "q")
    assert "50" not in token and "q" not in base64.urlsafe_b64decode(token + "==").hex()


@pytest.mark.parametrize("offset", ["1e400", 10**18, -1, "NaN"])
def test_a_forged_token_of_the_old_unsigned_form_is_refused(offset):
    forged = base64.urlsafe_b64encode(json.dumps({"o": offset, "q": "q"}).encode()).decode()
    _refused(TOKENS, forged, "q")


def test_an_altered_or_truncated_token_is_refused():
    token = TOKENS.next_token(Page(0, 2), 2, "q")
    raw = bytearray(base64.urlsafe_b64decode(token + "=="))
    raw[3] ^= 1  # the offset's last byte: 2 -> 3
    altered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (altered, token[:-2], token + "AA", "", "!!!!"):
        if bad:
            _refused(TOKENS, bad, "q")


def test_another_service_or_secret_cannot_use_the_token():
    token = TOKENS.next_token(Page(0, 2), 2, "q")
    _refused(PageTokens("test-secret", "disputes"), token, "q")
    _refused(PageTokens("other-secret", "accounts"), token, "q")


def test_offsets_end_at_max_offset():
    assert TOKENS.next_token(Page(MAX_OFFSET - 10, 10), 10, "q") != ""
    assert TOKENS.next_token(Page(MAX_OFFSET, 10), 10, "q") == ""
