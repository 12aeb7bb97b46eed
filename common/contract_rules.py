"""How a field's declared rules read: protovalidate's field rules (`(buf.validate.field)`,
protos/buf/validate/validate.proto) as this project uses them, turned into a predicate for a
value and, for a value that fails, the words that say what is wrong. common/contract.py builds
each message type's checks from these; the OpenAPI generator declares them.

The rules read here are the subset the protos use; a rule outside it makes `rules_of` raise when
the contract is built, so no annotation is ever silently ignored. A field with no rule of its own
keeps a ceiling: DEFAULT_MAX_ITEMS entries for a repeated field or map, DEFAULT_MAX_CHARS
characters for a string (a filter: common/listing.py's). No field a caller sets is unbounded
(issue 17: 10,000 reason codes were stored on one SLA policy).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2
from buf.validate import validate_pb2
from google.api import field_behavior_pb2  # type: ignore[import-untyped]
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from common.listing import MAX_FILTER_CHARS

# Above the largest legitimate value of any field without its own rule (a note of 10,000
# characters); fields that need more or less say so in the protos.
DEFAULT_MAX_ITEMS = 1000
DEFAULT_MAX_CHARS = 10_000
# The rules of validate.proto this reader knows, per kind; anything else is refused at build.
_STRING_RULES = frozenset({"min_len", "max_len", "pattern", "in"})
_NUMBER_RULES = frozenset({"gte", "lte", "gt", "lt"})
_ENUM_RULES = frozenset({"defined_only"})
_REPEATED_RULES = frozenset({"min_items", "max_items", "items"})
_MAP_RULES = frozenset({"max_pairs", "keys", "values"})
_FIELD_RULES = frozenset(
    {"ignore", "string", "int32", "int64", "uint32", "enum", "repeated", "map"}
)
SIZES = ("characters", "entries")  # how a size bound's description ends (OUT_OF_BOUNDS)
# What a declared pattern asks for, in the words a person reads next to the field (the console
# shows them under the input); a resource name's pattern reads as its shape; any other pattern
# is quoted as it is.
_PATTERN_WORDS = {
    "^-?[0-9]+([.][0-9]+)?$": "not a plain decimal amount (digits and a decimal point: 1234.50)",
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$": "must be a date YYYY-MM-DD",
    "^[A-Z][A-Z0-9_]{0,63}$": "must be an UPPER_SNAKE code of at most 64 characters",
    "^[A-Za-z][A-Za-z0-9_]{0,63}$": "must be a code of letters, digits and _ (at most 64)",
    "^https?://[^ ]+$": "must be an http:// or https:// URL",
    "^[A-Za-z]{3}$": "must be a three-letter ISO 4217 currency code",
    "^[A-Z]{3}$": "must be a three-letter ISO 4217 currency code",
    "^[A-Za-z]{2}$": "must be a two-letter ISO 3166 country code",
    "^([a-z][a-z0-9-]{0,62}|[0-9a-f]{32})$": "must be a lower-case id (a letter, then letters,"
    " digits and -, at most 63)",
    "^calendars/([a-z][a-z0-9-]{0,62}|[0-9a-f]{32})$": "must look like calendars/{id}",
    "^customers/[0-9a-f]{32}/billingAccounts/[0-9a-f]{32}$": "must look like"
    " customers/{id}/billingAccounts/{id}",
    "^[a-z][A-Za-z0-9]{0,40}/[A-Za-z0-9_.-]{1,100}$": "must be a resource name such as"
    " disputes/{id}",
    "^(user|rule|service):[^\\s\\x00]{1,190}$": "must be user:<name>, rule:<name> or"
    " service:<name>",
}
_RESOURCE_NAME = re.compile(r"^\^\(?([a-zA-Z|()]+?)\)?/\[0-9a-f\]\{32\}\$$")


def pattern_words(pattern: str) -> str:
    """ "must match ^customers/[0-9a-f]{32}$" as "must look like customers/{id}", and so on."""
    if pattern in _PATTERN_WORDS:
        return _PATTERN_WORDS[pattern]
    named = _RESOURCE_NAME.match(pattern)
    if named:
        collections = " or ".join(f"{c}/{{id}}" for c in named.group(1).split("|"))
        return f"must look like {collections}"
    return f"must match {pattern}"


@dataclass(frozen=True)
class ValueRules:
    """What one value (a scalar, or one element of a repeated field or map) must be."""

    max_chars: int | None = None
    min_chars: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    defined_only: bool = False
    ignore_zero: bool = False

    @functools.cached_property
    def _regex(self) -> Callable[[str], bool] | None:
        """protovalidate's pattern semantics (RE2, found anywhere in the value) at the speed of
        Python's engine: the two agree on these patterns in ASCII mode, except that Python's `$`
        also matches before a final newline, so such a value is asked of RE2 itself."""
        if self.pattern is None:
            return None
        exact, quick = re2.compile(self.pattern), re.compile(self.pattern, re.ASCII)
        return lambda value: (
            quick.search(value) is not None
            and (not value.endswith("\n") or exact.search(value) is not None)
        )

    def predicate(self, field: FieldDescriptor) -> Callable[[Any], bool]:
        """True when a value keeps every rule: the per-call path, without building messages
        (`problems` says what is wrong, only for a value that fails)."""
        if field.message_type is not None:
            return lambda value: True  # its fields are its own contract's (MessageContract)
        skip_zero = self.ignore_zero
        if field.type == FieldDescriptor.TYPE_STRING:
            most, least = self.max_chars or 0, self.min_chars or 0
            matches, choices = self._regex, frozenset(self.choices)
            return lambda value: (
                (skip_zero and not value)
                or (
                    least <= len(value) <= most
                    and "\x00" not in value
                    and (matches is None or matches(value))
                    and (not choices or value in choices)
                )
            )
        if field.enum_type is not None:
            known = frozenset(field.enum_type.values_by_number) if self.defined_only else None
            return lambda value: known is None or value in known or (skip_zero and not value)
        if self.minimum is None and self.maximum is None:
            return lambda value: True  # bytes, bools, floats, integers without a range
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        return lambda value: (skip_zero and not value) or low <= value <= high

    def problems(self, field: FieldDescriptor, value) -> list[str]:
        if self.ignore_zero and not value:
            return []
        found = []
        if isinstance(value, str):
            if self.max_chars is not None and len(value) > self.max_chars:
                found.append(f"must be at most {self.max_chars} characters")
            if self.min_chars is not None and len(value) < self.min_chars:
                found.append(f"must be at least {self.min_chars} characters")
            if "\x00" in value:  # PostgreSQL cannot store one: refused in every string
                found.append("must not contain NUL characters")
            if self._regex is not None and not self._regex(value):
                found.append(pattern_words(self.pattern or ""))
            if self.choices and value not in self.choices:
                found.append(f"must be one of {', '.join(self.choices)}")
        elif field.enum_type is not None:
            if self.defined_only and field.enum_type.values_by_number.get(value) is None:
                found.append("is not a known value")
        elif isinstance(value, int):
            if self.minimum is not None and value < self.minimum:
                found.append(f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                found.append(f"must be at most {self.maximum}")
        return found


@dataclass(frozen=True)
class FieldRules:
    """A field's rules: its entries' count (repeated fields and maps) and its values'."""

    field: FieldDescriptor
    value: ValueRules
    key: ValueRules | None = None  # maps
    max_items: int | None = None
    min_items: int | None = None

    @functools.cached_property
    def accepts(self) -> Callable[[Any], bool]:
        f = self.field
        if not f.is_repeated:
            return self.value.predicate(f)
        most, least = self.max_items or 0, self.min_items or 0
        if self.key is not None:
            entry = f.message_type.fields_by_name
            key_ok = self.key.predicate(entry["key"])
            value_ok = self.value.predicate(entry["value"])
            return lambda value: (
                least <= len(value) <= most
                and all(key_ok(k) and value_ok(v) for k, v in value.items())
            )
        item_ok = self.value.predicate(f)
        return lambda value: least <= len(value) <= most and all(map(item_ok, value))


def output_only(f: FieldDescriptor) -> bool:
    behaviours = f.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.OUTPUT_ONLY in behaviours


def is_map(f: FieldDescriptor) -> bool:
    return bool(f.message_type and f.message_type.GetOptions().map_entry)


def declared_rules(f: FieldDescriptor) -> validate_pb2.FieldRules:
    return f.GetOptions().Extensions[validate_pb2.field]


def _only(rules: Message, known: frozenset[str], where: str) -> None:
    unknown = {d.name for d, _ in rules.ListFields()} - known
    if unknown:
        raise ValueError(f"{where}: rules {sorted(unknown)} are not read here")


def _value_rules(f: FieldDescriptor, declared: validate_pb2.FieldRules, where: str) -> ValueRules:
    _only(declared, _FIELD_RULES - {"repeated", "map"}, where)
    ignore_zero = declared.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE
    if f.type == FieldDescriptor.TYPE_STRING:
        s = declared.string
        _only(s, _STRING_RULES, where)
        default = MAX_FILTER_CHARS if f.name == "filter" else DEFAULT_MAX_CHARS
        return ValueRules(
            max_chars=s.max_len if s.HasField("max_len") else default,
            min_chars=s.min_len if s.HasField("min_len") else None,
            pattern=s.pattern if s.HasField("pattern") else None,
            choices=tuple(getattr(s, "in")),
            ignore_zero=ignore_zero,
        )
    if f.enum_type is not None:
        _only(declared.enum, _ENUM_RULES, where)
        return ValueRules(defined_only=declared.enum.defined_only, ignore_zero=ignore_zero)
    kind = declared.WhichOneof("type")
    if kind in ("int32", "int64", "uint32"):
        n = getattr(declared, kind)
        _only(n, _NUMBER_RULES, where)
        lower = n.gte if n.HasField("gte") else (n.gt + 1 if n.HasField("gt") else None)
        upper = n.lte if n.HasField("lte") else (n.lt - 1 if n.HasField("lt") else None)
        return ValueRules(minimum=lower, maximum=upper, ignore_zero=ignore_zero)
    if kind is not None:
        raise ValueError(f"{where}: {kind} rules are not read here")
    return ValueRules(ignore_zero=ignore_zero)


@functools.cache
def rules_of(f: FieldDescriptor) -> FieldRules:
    """The field's rules as declared, with the default ceilings where it declares none."""
    declared, where = declared_rules(f), f.full_name
    if is_map(f):
        _only(declared, frozenset({"map"}), where)
        m = declared.map
        _only(m, _MAP_RULES, where)
        key_field, value_field = (f.message_type.fields_by_name[n] for n in ("key", "value"))
        return FieldRules(
            f,
            value=_value_rules(value_field, m.values, f"{where} values"),
            key=_value_rules(key_field, m.keys, f"{where} keys"),
            max_items=m.max_pairs if m.HasField("max_pairs") else DEFAULT_MAX_ITEMS,
        )
    if f.is_repeated:
        _only(declared, frozenset({"repeated"}), where)
        r = declared.repeated
        _only(r, _REPEATED_RULES, where)
        return FieldRules(
            f,
            value=_value_rules(f, r.items, f"{where} items"),
            max_items=r.max_items if r.HasField("max_items") else DEFAULT_MAX_ITEMS,
            min_items=r.min_items if r.HasField("min_items") else None,
        )
    return FieldRules(f, value=_value_rules(f, declared, where))
