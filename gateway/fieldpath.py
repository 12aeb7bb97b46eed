"""Dotted field paths ("customer.name", "options.currencyCode") resolved against a message
descriptor, by proto name or JSON name, as routes, query parameters and OpenAPI all need."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor


def field_named(message: Descriptor, name: str) -> FieldDescriptor | None:
    return message.fields_by_name.get(name) or message.fields_by_camelcase_name.get(name)


def resolve(message: Descriptor, dotted: str) -> tuple[FieldDescriptor, ...] | None:
    """The chain of fields, or None when a segment does not exist or crosses a non-message."""
    chain: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for name in dotted.split("."):
        if current is None or (chain and chain[-1].is_repeated):
            return None
        field = field_named(current, name)
        if field is None:
            return None
        chain.append(field)
        current = field.message_type
    return tuple(chain)


def proto_path(chain: tuple[FieldDescriptor, ...]) -> str:
    return ".".join(f.name for f in chain)


def is_map(field: FieldDescriptor) -> bool:
    return bool(field.message_type and field.message_type.GetOptions().map_entry)
