"""Watch cursors as opaque tokens: a feed position sealed (AES-GCM) to the caller's visibility.

The feed's sequence is one counter for every team; handing it out would tell a Sales user how
much Legal did meanwhile (issue 12). A cursor is encrypted, so its position cannot be read, and
bound to the scope it was issued for (the caller's team, or every team), so one team's cursor
is refused to another, as is anything forged or altered."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.errors import InvalidArgument
from services.escalation.service import access

_KEY_LABEL = b"settle.escalation.v1 watch cursor"
FROM_START = "0"  # the one cursor anyone may write: the start of the feed, which reveals nothing
_NONCE = 12
_SEQUENCE = 8
_TOKEN = _NONCE + _SEQUENCE + 16  # nonce, sealed position, tag


class WatchCursors:
    def __init__(self, secret: str):
        # A key of its own, derived from the shared secret: a cursor can seal nothing else.
        self._aead = AESGCM(hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest())

    def seal(self, sequence: int) -> str:
        """The caller's cursor for feed position `sequence`."""
        return self._seal(sequence, _scope())

    def seal_for_team(self, sequence: int, team: str) -> str:
        """A cursor for members of `team`: what a webhook body carries to that team's
        subscription, so the subscriber can resume a watch from it."""
        return self._seal(sequence, _team_scope(team))

    def _seal(self, sequence: int, scope: bytes) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, sequence.to_bytes(_SEQUENCE, "big"), scope)
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, token: str) -> int | None:
        """The position a cursor of this caller's scope stands for; None for no cursor."""
        if not token:
            return None
        if token == FROM_START:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            if len(raw) != _TOKEN:
                raise ValueError(len(raw))
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _scope())
        except (ValueError, binascii.Error, InvalidTag):
            raise InvalidArgument.of(
                "cursor", "must be a cursor this service returned to your team"
            ) from None
        return int.from_bytes(plain, "big")


def _scope() -> bytes:
    """What a cursor is bound to: the team the caller sees, or every team."""
    team = access.own_team()
    return b"*" if team is None else _team_scope(team)


def _team_scope(team: str) -> bytes:
    return f"team:{team}".encode()
