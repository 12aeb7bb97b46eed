"""Opaque etags for optimistic concurrency (AIP-154): a hash of the resource id and its version."""

from __future__ import annotations

import hashlib

from common.errors import Aborted, InvalidArgument


def etag_of(resource_id: str, version: int) -> str:
    return hashlib.blake2b(f"{resource_id}:{version}".encode(), digest_size=8).hexdigest()


def check_etag(given: str, resource_id: str, version: int, *, required: bool = False) -> None:
    """An empty etag means 'whatever the current version' unless the method requires one."""
    if not given:
        if required:
            raise InvalidArgument.of("etag", "is required; read the resource and send its etag")
        return
    if given != etag_of(resource_id, version):
        raise Aborted(
            "the resource changed since it was read; read it again and retry",
            metadata={"resource": resource_id},
        )
