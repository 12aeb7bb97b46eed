"""The console: server-rendered screens for collectors, team leads, receiving teams and SRE.

It calls only the gateway's HTTP/JSON API with the signed-in user's token, owns no database and
holds no business rule (docs/console.md).
"""
