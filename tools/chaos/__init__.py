"""`make chaos`: the whole system on a private PostgreSQL cluster, under SIGKILLs and database
restarts, audited for lost or doubled effects afterwards (docs/chaos.md)."""
