"""The request contract, declared once in the protos with protovalidate's field rules and read
from the descriptors here, once per message type (how one field's rules read:
common/contract_rules.py). Three readers share it: every service's server interceptor checks
each request before a servicer sees it (common/rpc/server_interceptor.py), the gateway checks it
before a backend does (over HTTP and gRPC), and the OpenAPI generator declares it
(gateway/openapi/schemas.py: maxLength, pattern, minimum, maxItems, enum, ...).

protovalidate's own Python runtime reads the same annotations; docs/gateway.md ("The contract")
says why this reader checks them (with the figures of both). Output-only fields are not checked:
callers never set them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from buf.validate import validate_pb2
from google.api import field_behavior_pb2  # type: ignore[import-untyped]
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.contract_rules import (
    SIZES,
    FieldRules,
    ValueRules,
    declared_rules,
    is_map,
    output_only,
    rules_of,
)
from common.errors import FieldViolation, InvalidArgument


@dataclass(eq=False)
class MessageContract:
    """The checked fields of one message type. Only the fields a message sets are visited
    (ListFields), then the required ones (google.api.field_behavior) and those whose unset value
    breaks a rule (a minimum count, a pattern without IGNORE_IF_ZERO_VALUE). Sub-messages are
    checked by their own contracts; a lenient one (`contract_of(..., lenient=True)`) does not
    require its required fields (the resource of an update request: AIP-134, only the fields in
    its mask must be set)."""

    descriptor: Descriptor
    rules: dict[str, FieldRules] = field(default_factory=dict)
    unset_fails: tuple[FieldRules, ...] = ()
    required: tuple[FieldDescriptor, ...] = ()
    nested: dict[str, tuple[Descriptor, bool]] = field(default_factory=dict)

    @functools.cached_property
    def inner(self) -> dict[str, MessageContract]:
        """The sub-messages' contracts, found at first use (a type may contain itself)."""
        return {name: contract_of(*key) for name, key in self.nested.items()}

    @functools.cached_property
    def field_checks(self) -> dict[str, Callable[[Any], bool]]:
        """Per field name, one predicate for a set value: its own rules and its sub-messages'."""
        checks: dict[str, Callable[[Any], bool]] = {}
        for name, rules in self.rules.items():
            contract = self.inner.get(name)
            checks[name] = (
                rules.accepts if contract is None else _with_messages(rules, contract.accepts)
            )
        return checks

    def accepts(self, message: Message) -> bool:
        checks = self.field_checks
        for f, value in message.ListFields():
            check = checks.get(f.name)
            if check is not None and not check(value):
                return False
        for name, singular_message in self.presence:
            if not (message.HasField(name) if singular_message else getattr(message, name)):
                return False
        return all(check(getattr(message, name)) for name, check in self.when_unset)

    @functools.cached_property
    def presence(self) -> tuple[tuple[str, bool], ...]:
        return tuple(
            (f.name, f.message_type is not None and not f.is_repeated) for f in self.required
        )

    @functools.cached_property
    def when_unset(self) -> tuple[tuple[str, Callable[[Any], bool]], ...]:
        return tuple((r.field.name, r.accepts) for r in self.unset_fails)

    def check_into(self, message: Message, prefix: str, found: list[FieldViolation]) -> None:
        for f, value in message.ListFields():
            checked = self.rules.get(f.name)
            if checked is None:
                continue
            if not checked.accepts(value):
                _check_field(checked, value, f"{prefix}{f.name}", found)
            contract = self.inner.get(f.name)
            if contract is not None:
                for where, item in _entries(f, value, f"{prefix}{f.name}"):
                    if not contract.accepts(item):
                        contract.check_into(item, f"{where}.", found)
        for f in self.required:
            if not _present(message, f):
                found.append(FieldViolation(f"{prefix}{f.name}", "is required"))
        for checked in self.unset_fails:
            value = getattr(message, checked.field.name)
            if not value and not checked.accepts(value):  # a set one was seen above
                _check_field(checked, value, f"{prefix}{checked.field.name}", found)


def _with_messages(rules: FieldRules, message_ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """The field's own rules and its sub-messages' contract, as one predicate."""
    own, f = rules.accepts, rules.field

    def single(value: Any) -> bool:
        return own(value) and message_ok(value)

    def entries(value: Any) -> bool:
        return own(value) and all(map(message_ok, value.values() if is_map(f) else value))

    return entries if f.is_repeated else single


def _present(message: Message, f: FieldDescriptor) -> bool:
    if f.message_type is not None and not f.is_repeated:
        return message.HasField(f.name)
    return bool(getattr(message, f.name))


def _entries(f: FieldDescriptor, value, path: str) -> list[tuple[str, Message]]:
    if not f.is_repeated:
        return [(path, value)]
    if is_map(f):
        return [(f"{path}[{key}]", item) for key, item in value.items()]
    return [(f"{path}[{i}]", item) for i, item in enumerate(value)]


def _check_field(rules: FieldRules, value, path: str, found: list[FieldViolation]) -> None:
    f = rules.field
    if f.is_repeated:
        if rules.max_items is not None and len(value) > rules.max_items:
            found.append(FieldViolation(path, f"must have at most {rules.max_items} entries"))
            return
        if rules.min_items is not None and len(value) < rules.min_items:
            found.append(FieldViolation(path, f"must have at least {rules.min_items} entries"))
        if rules.key is not None:
            entry = f.message_type.fields_by_name
            for key, item in value.items():
                where = f"{path}[{key}]"
                _check_value(entry["key"], rules.key, key, where, found)
                _check_value(entry["value"], rules.value, item, where, found)
            return
        for i, item in enumerate(value):
            _check_value(f, rules.value, item, f"{path}[{i}]", found)
        return
    _check_value(f, rules.value, value, path, found)


def _check_value(f: FieldDescriptor, rules: ValueRules, value, path: str, found) -> None:
    if f.message_type is None:
        found.extend(FieldViolation(path, problem) for problem in rules.problems(f, value))


def _behaviours(f: FieldDescriptor):
    return f.GetOptions().Extensions[field_behavior_pb2.field_behavior]


@functools.cache
def contract_of(descriptor: Descriptor, lenient: bool = False) -> MessageContract:
    """Built once per message type (and leniency); its sub-messages' contracts are their own."""
    checked = [f for f in descriptor.fields if not output_only(f) and not _ignored(f)]
    rules = {f.name: rules_of(f) for f in checked}
    scalars = [r for r in rules.values() if r.field.message_type is None or r.field.is_repeated]
    unset = tuple(r for r in scalars if not r.accepts(_unset(r.field)))
    required = (
        ()
        if lenient
        else tuple(f for f in checked if field_behavior_pb2.REQUIRED in _behaviours(f))
    )
    updating = "update_mask" in descriptor.fields_by_name
    nested = {}
    for f in checked:
        value = f.message_type.fields_by_name["value"] if is_map(f) else f
        if value.message_type is not None:
            nested[f.name] = (value.message_type, lenient or (updating and not f.is_repeated))
    return MessageContract(descriptor, rules, unset, required, nested)


def _ignored(f: FieldDescriptor) -> bool:
    """`ignore: IGNORE_ALWAYS`: the field is validated by its service, on its own (a batch's
    items, each answered alone)."""
    return declared_rules(f).ignore == validate_pb2.IGNORE_ALWAYS


def _unset(f: FieldDescriptor):
    if f.is_repeated:
        return {} if is_map(f) else []
    return f.default_value


def violations(message: Message) -> list[FieldViolation]:
    """Every field of the message (and its sub-messages) outside its rules, by proto path."""
    found: list[FieldViolation] = []
    contract_of(message.DESCRIPTOR).check_into(message, "", found)
    return found


def check(message: Message) -> None:
    """INVALID_ARGUMENT naming every field outside its rules: reason OUT_OF_BOUNDS when each is
    a size (too long, too many), INVALID_FIELD when a value's form is wrong."""
    found = violations(message)
    if found:
        sizes = all(v.description.endswith(SIZES) for v in found)
        raise InvalidArgument(
            f"{found[0].field}: {found[0].description}",
            violations=found,
            reason="OUT_OF_BOUNDS" if sizes else "INVALID_FIELD",
        )


def build(descriptors: Iterable[Descriptor]) -> None:
    """Builds the contracts of the given request types and of every message inside them now (at
    start-up), so that a rule this reader does not know stops the process, not a call."""
    pending: list[tuple[Descriptor, bool]] = [(d, False) for d in descriptors]
    seen = set()
    while pending:
        key = pending.pop()
        if (key[0].full_name, key[1]) in seen:
            continue
        seen.add((key[0].full_name, key[1]))
        pending.extend(contract_of(*key).nested.values())


def build_for_services(service_names: Iterable[str]) -> None:
    """`build` for the requests of every method of the named gRPC services that the default
    pool knows (a service served by a generic handler, e.g. the outbox administration built on
    settle.common.v1's messages, has its requests' contracts built at their first call)."""
    pool = descriptor_pool.Default()
    services = []
    for name in service_names:
        try:
            services.append(pool.FindServiceByName(name))
        except KeyError:
            continue
    build(method.input_type for service in services for method in service.methods)
