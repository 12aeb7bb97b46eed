"""Hostile and malformed input, generated: whatever arrives, the answer is a 4xx (or a success)
with a JSON body, never a 5xx and never a traceback. Through real HTTP against the real services,
and, with many more examples, against the transcoder directly."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import DomainError
from gateway.auth.policy import Policy
from gateway.catalog import load_catalog
from gateway.routing import RouteTable
from gateway.transcode import build_message, decode_json
from tests.gateway.support import bearer, sample_path

ROUTES = RouteTable.from_rpcs(Policy().public_rpcs(load_catalog())).routes
UNARY = [r for r in ROUTES if not (r.rpc.client_streaming or r.rpc.server_streaming)]
WITH_BODY = [r for r in UNARY if r.body]
# Roles that pass the gateway almost everywhere, so most requests reach the services too.
HEADERS = bearer(("admin", "team_lead", "collector", "specialist", "gbs"), subject="fuzz")
HTTP = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    sorted(
        {
            name
            for r in ROUTES
            for f in r.rpc.descriptor.input_type.fields
            for name in (f.name, f.json_name)
        }
        | {"customer.displayName", "options.currencyCode", "x"}
    )
)
# Dictionaries that look like requests: real field names, random values, now and then nested.
request_like = st.dictionaries(field_names, json_values, max_size=5)
# What a client can put in a path (httpx refuses control characters; h11 would too), with
# percent-escapes, well-formed or not, from the "%" in the alphabet.
printable = st.characters(min_codepoint=32, max_codepoint=126)
segment = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#"),
    max_size=20,
)


def _assert_clean(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"] == response.status_code


@HTTP
@given(route=st.sampled_from(WITH_BODY), body=st.one_of(request_like, json_values))
def test_random_json_bodies(stack, route, body):
    _assert_clean(
        stack.http.request(
            route.method, sample_path(route), headers=HEADERS, content=json.dumps(body).encode()
        )
    )


@HTTP
@given(route=st.sampled_from(WITH_BODY), body=st.binary(max_size=300))
def test_random_bytes_as_json(stack, route, body):
    headers = {**HEADERS, "Content-Type": "application/json"}
    _assert_clean(
        stack.http.request(route.method, sample_path(route), headers=headers, content=body)
    )


@HTTP
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]),
    segments=st.lists(segment, min_size=1, max_size=5),
    verb=st.none() | segment,
)
def test_random_paths(stack, method, segments, verb):
    path = "/v1/" + "/".join(segments) + (f":{verb}" if verb is not None else "")
    _assert_clean(stack.http.request(method, path, headers=HEADERS, content=b"{}"))


@HTTP
@given(
    route=st.sampled_from([r for r in UNARY if r.method == "GET"]),
    query=st.lists(st.tuples(field_names, st.text(max_size=30)), max_size=4),
)
def test_random_query_parameters(stack, route, query):
    _assert_clean(stack.http.get(sample_path(route), params=query, headers=HEADERS))


@HTTP
@given(
    authorization=st.text(alphabet=printable, max_size=300).map(str.strip),
    request_id=st.text(alphabet=printable, max_size=200).map(str.strip),
)
def test_random_credentials_and_request_ids(stack, authorization, request_id):
    response = stack.http.get(
        "/v1/customers", headers={"Authorization": authorization, "X-Request-Id": request_id}
    )
    _assert_clean(response)
    assert response.status_code in (200, 401)


@settings(max_examples=300, deadline=None)
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(request_like, json_values),
    query=st.lists(st.tuples(field_names, st.text(max_size=20)), max_size=3),
)
def test_the_transcoder_refuses_with_invalid_argument_or_builds_a_message(route, body, query):
    try:
        build_message(route.rpc.request_class, route.body or "*", body, {}, query)
    except DomainError as error:
        # OUT_OF_BOUNDS and INVALID_FIELD also come from the protos' rules (common/contract.py)
        reasons = ("INVALID_FIELD", "INVALID_ARGUMENT", "UNKNOWN_QUERY_PARAMETER", "OUT_OF_BOUNDS")
        assert error.reason in reasons


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_json_or_invalid_argument(raw):
    try:
        decode_json(raw)
    except DomainError as error:
        assert error.reason == "MALFORMED_JSON"
