"""The gateway: one thin front door (HTTP/JSON and gRPC) to Settle's services.

It authenticates, authorises, transcodes HTTP/JSON ⇄ protobuf from the protos' `google.api.http`
annotations, maps errors, and propagates identity, request ids and trace context. No business
rules, no database.
"""
