"""Authentication: JWTs (HS256 or RS256 keys from a file) with issuer, audience and expiry
checked; API keys for service accounts; no secrets by default outside development."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.errors import Unauthenticated
from common.settings import PROJECT_ROOT, ConfigurationError
from gateway import devtoken
from gateway.auth.apikeys import digest
from gateway.auth.authenticator import Authenticator
from gateway.settings import DEV_JWT_SECRET, GatewaySettings
from tests.gateway.support import API_KEY, JWT, error_info, token

PROD = {"SETTLE_ENV": "production", "SETTLE_INTERNAL_SECRET": "s" * 32}
NOW = time.time()
# Tokens are made when the module is imported (BAD_TOKENS feeds parametrize) and used minutes
# later in a full run: valid ones must outlive the suite, or "wrong audience" reads as expired.
VALID_FOR_S = 6 * 3600


def _claims(**overrides):
    claims = {
        "iss": JWT.issuer,
        "aud": JWT.audience,
        "sub": "alice",
        "roles": ["collector"],
        "exp": int(NOW) + VALID_FOR_S,
    }
    return {k: v for k, v in {**claims, **overrides}.items() if v is not None}


BAD_TOKENS = {
    "expired": (pyjwt.encode(_claims(exp=int(NOW) - 120), JWT.keys[0]), "TOKEN_EXPIRED"),
    "wrong audience": (pyjwt.encode(_claims(aud="someone-else"), JWT.keys[0]), "TOKEN_INVALID"),
    "wrong issuer": (pyjwt.encode(_claims(iss="evil"), JWT.keys[0]), "TOKEN_INVALID"),
    "wrong signature": (
        pyjwt.encode(_claims(), "another-secret-of-thirty-two-bytes!"),
        "TOKEN_INVALID",
    ),
    "no expiry": (pyjwt.encode(_claims(exp=None), JWT.keys[0]), "TOKEN_INVALID"),
    "alg none": (pyjwt.encode(_claims(), None, algorithm="none"), "TOKEN_INVALID"),
    "not yet valid": (
        pyjwt.encode(_claims(nbf=int(NOW) + VALID_FOR_S), JWT.keys[0]),
        "TOKEN_INVALID",
    ),
    "odd subject": (pyjwt.encode(_claims(sub="alice\nbob"), JWT.keys[0]), "TOKEN_INVALID"),
}


@pytest.mark.parametrize("case", BAD_TOKENS, ids=str)
def test_bad_tokens_are_401_through_http(stack, case):
    bad, reason = BAD_TOKENS[case]
    response = stack.http.get("/v1/customers", headers={"Authorization": f"Bearer {bad}"})
    assert response.status_code == 401
    assert error_info(response.json())["reason"] == reason


def test_a_good_token_and_an_api_key_pass(stack):
    assert stack.http.get(
        "/v1/customers", headers={"Authorization": f"Bearer {token('sre')}"}
    ).is_success
    assert stack.http.get("/v1/customers", headers={"X-Api-Key": API_KEY}).is_success


def test_unknown_roles_grant_nothing(stack):
    response = stack.http.get("/v1/customers", headers={"Authorization": f"Bearer {token('root')}"})
    assert response.status_code == 403


def _rsa_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def test_rs256_tokens_verify_against_any_key_of_the_file(tmp_path):
    (old, old_public), (new, new_public), (stranger, _) = _rsa_pair(), _rsa_pair(), _rsa_pair()
    keys_file = tmp_path / "keys.pem"
    keys_file.write_text(old_public + new_public)
    settings = GatewaySettings.from_env(
        {
            **PROD,
            "GATEWAY_JWT_PUBLIC_KEYS_FILE": str(keys_file),
            "GATEWAY_JWT_ISSUER": JWT.issuer,
            "GATEWAY_JWT_AUDIENCE": JWT.audience,
        }
    )
    auth = Authenticator(settings.jwt, ())
    for key in (old, new):
        signed = pyjwt.encode(_claims(team="sales"), key, algorithm="RS256")
        actor = auth.authenticate(f"Bearer {signed}", None)
        assert (actor.subject, actor.roles, actor.team) == ("user:alice", ("collector",), "SALES")
    with pytest.raises(Unauthenticated):
        auth.authenticate(f"Bearer {pyjwt.encode(_claims(), stranger, algorithm='RS256')}", None)
    # The public key used as an HS256 secret (algorithm confusion) is refused.
    forged = pyjwt.encode(_claims(), "forged-with-a-32-byte-secret-here!", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        auth.authenticate(f"Bearer {forged}", None)


def test_api_keys_are_matched_by_hash_and_carry_their_roles(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            [{"name": "erp-sync", "sha256": digest("settle_k1"), "roles": ["gbs"], "team": "gbs"}]
        )
    )
    settings = GatewaySettings.from_env({**PROD, "GATEWAY_API_KEYS_FILE": str(keys)})
    assert settings.jwt is None  # API keys alone are a valid configuration
    actor = Authenticator(settings.jwt, settings.api_keys).authenticate(None, "settle_k1")
    assert (actor.subject, actor.roles, actor.team) == ("service-account:erp-sync", ("gbs",), "GBS")


@pytest.mark.parametrize(
    "environ",
    [
        PROD,  # no secret at all
        {"SETTLE_ENV": "production", "GATEWAY_JWT_HS256_SECRET": "x" * 40},  # no internal secret
        {
            **PROD,
            "GATEWAY_JWT_HS256_SECRET": "short",
            "GATEWAY_JWT_ISSUER": "i",
            "GATEWAY_JWT_AUDIENCE": "a",
        },
        {**PROD, "GATEWAY_JWT_HS256_SECRET": "x" * 40},  # no issuer or audience
        {
            **PROD,
            "GATEWAY_JWT_HS256_SECRET": "x" * 40,
            "GATEWAY_JWT_PUBLIC_KEYS_FILE": "/k.pem",
            "GATEWAY_JWT_ISSUER": "i",
            "GATEWAY_JWT_AUDIENCE": "a",
        },
        {
            **PROD,
            "GATEWAY_JWT_PUBLIC_KEYS_FILE": "/nonexistent.pem",
            "GATEWAY_JWT_ISSUER": "i",
            "GATEWAY_JWT_AUDIENCE": "a",
        },
        {**PROD, "GATEWAY_API_KEYS_FILE": "/nonexistent.json"},
        {"GATEWAY_DEADLINE_S": "soon"},
    ],
)
def test_settings_without_real_secrets_outside_development_are_refused(environ):
    with pytest.raises(ConfigurationError):
        GatewaySettings.from_env(environ)


def test_development_has_a_default_secret():
    settings = GatewaySettings.from_env({})
    assert settings.development and settings.jwt.keys == (DEV_JWT_SECRET,)


def test_the_process_refuses_to_start_outside_development_without_secrets():
    environ = {"PATH": "/usr/bin:/bin", **PROD}
    result = subprocess.run(
        [sys.executable, "-m", "gateway"],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "GATEWAY_JWT" in result.stderr


def test_devtoken_prints_a_token_the_development_gateway_accepts(monkeypatch, capsys):
    monkeypatch.setenv("SETTLE_ENV", "development")
    for name in (
        "GATEWAY_JWT_HS256_SECRET",
        "GATEWAY_JWT_PUBLIC_KEYS_FILE",
        "GATEWAY_API_KEYS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    # `make token` passes empty strings for the flags it was not given.
    assert devtoken.main(["--role", "legal", "--team", "", "--subject", ""]) == 0
    printed = capsys.readouterr().out.strip()
    dev = GatewaySettings.from_env({})
    actor = Authenticator(dev.jwt, ()).authenticate(f"Bearer {printed}", None)
    assert (actor.subject, actor.roles, actor.team) == ("user:dev-legal", ("legal",), "LEGAL")
    monkeypatch.setenv("SETTLE_ENV", "production")
    monkeypatch.setenv("SETTLE_INTERNAL_SECRET", "s" * 32)
    monkeypatch.setenv("GATEWAY_JWT_HS256_SECRET", "x" * 40)
    assert devtoken.main(["--role", "admin"]) == 2


def test_a_token_minted_for_another_gateway_is_refused():
    other = replace(JWT, audience="another-gateway")
    with pytest.raises(Unauthenticated):
        Authenticator(JWT, ()).authenticate(f"Bearer {token('admin', jwt=other)}", None)


def test_a_token_verified_once_is_refused_once_it_expires():
    """Verified tokens are kept (a JWT check per call was most of the gateway's work), but only
    until they expire, whatever was verified before."""
    auth = Authenticator(replace(JWT, leeway_s=0), ())
    expires = int(time.time()) + 2
    bearer = f"Bearer {pyjwt.encode(_claims(exp=expires), JWT.keys[0])}"
    assert auth.authenticate(bearer, None).subject == "user:alice"
    assert auth.authenticate(bearer, None).subject == "user:alice"  # from the kept ones
    time.sleep(max(0.0, expires - time.time()) + 0.1)
    with pytest.raises(Unauthenticated) as refused:
        auth.authenticate(bearer, None)
    assert refused.value.reason == "TOKEN_EXPIRED"
