"""Baselines: the same work on the bare stack. `accounts_sql` is the SQL the accounts service
runs, written directly for asyncpg; `server` serves it over a bare grpc.aio chain."""
