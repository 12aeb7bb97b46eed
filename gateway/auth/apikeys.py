"""API keys for service accounts (an ERP sync, a reporting job): stored only as SHA-256 hashes.

Keys are random and long, so a fast hash is the right one (nothing to brute-force, unlike
passwords). `python -m gateway.auth.apikeys --name erp-sync --role gbs` makes a key and prints the
entry to add to the file named by GATEWAY_API_KEYS_FILE, a JSON list of such entries.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from common.settings import ConfigurationError
from gateway.access import ROLES

PREFIX = "settle_"
# Names (and JWT subjects) travel in gRPC metadata, which must be printable ASCII.
NAME_RE = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: str
    roles: tuple[str, ...]
    team: str = ""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find(keys: tuple[ApiKey, ...], presented: str) -> ApiKey | None:
    hashed = digest(presented)
    # Compare with every entry in constant time; the list is short.
    found = [k for k in keys if hmac.compare_digest(k.sha256, hashed)]
    return found[0] if found else None


def _entry(raw: object, where: str) -> ApiKey:
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}: each API key must be an object")
    name, sha, roles, team = (raw.get(k) for k in ("name", "sha256", "roles", "team"))
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigurationError(f"{where}: 'name' must match {NAME_RE.pattern}")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ConfigurationError(f"{where} ({name}): 'sha256' must be 64 lowercase hex digits")
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise ConfigurationError(f"{where} ({name}): 'roles' must be a list of {', '.join(ROLES)}")
    return ApiKey(name, sha, tuple(roles), str(team or "").upper())


def load_api_keys(path: str | None) -> tuple[ApiKey, ...]:
    if not path:
        return ()
    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"GATEWAY_API_KEYS_FILE {path}: {exc}") from None
    if not isinstance(entries, list):
        raise ConfigurationError(f"GATEWAY_API_KEYS_FILE {path}: must be a JSON list")
    return tuple(_entry(e, f"GATEWAY_API_KEYS_FILE entry {i}") for i, e in enumerate(entries))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.auth.apikeys")
    parser.add_argument("--name", required=True)
    parser.add_argument("--role", action="append", required=True, choices=ROLES)
    parser.add_argument("--team", default="")
    options = parser.parse_args()
    key = PREFIX + secrets.token_urlsafe(32)
    entry = {
        "name": options.name,
        "sha256": digest(key),
        "roles": options.role,
        "team": options.team,
    }
    print(f"key (give it to the service account; it is not stored): {key}")
    print(f"entry for GATEWAY_API_KEYS_FILE: {json.dumps(entry)}")


if __name__ == "__main__":
    main()
