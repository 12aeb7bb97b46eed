"""Development sign-in: a token from the gateway's own development command.

The console imports nothing of the gateway; it runs `python -m gateway.devtoken` (what
`make token` runs), which refuses outside development and signs with whatever secret the
gateway is configured with in this environment, so the token always matches the gateway.
"""

from __future__ import annotations

import asyncio
import re
import sys

SUBJECT = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")
TIMEOUT_S = 15


class DevTokenRefused(Exception):
    pass


async def mint_dev_token(role: str, subject: str, team: str) -> str:
    if not SUBJECT.match(subject):
        raise DevTokenRefused("Use letters, digits and . _ @ + - only (at most 128).")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.devtoken",
        "--role",
        role,
        "--team",
        team,
        "--subject",
        subject,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    except TimeoutError:
        process.kill()
        raise DevTokenRefused("The development token command did not answer.") from None
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise DevTokenRefused(lines[-1] if lines else "The development token was refused.")
    return out.decode().strip()
