"""`make migration SERVICE=accounts MSG="add x"`: autogenerate a revision against a scratch SQLite
database migrated to head. Review the file it writes before committing it."""

from __future__ import annotations

import argparse
import asyncio
import tempfile

from common.db.database import create_engine
from common.db.migrate import autogenerate


async def main(service: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/scratch.db")
        await autogenerate(engine, service, message)
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    parser.add_argument("message")
    args = parser.parse_args()
    asyncio.run(main(args.service, args.message))
