"""All the SQL of the escalation service: models, repository, reads, batch writes, rows."""
