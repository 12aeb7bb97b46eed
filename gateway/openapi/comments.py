"""The protos' comments, which the generated Python code does not keep: compiled again with
source info (grpc_tools' protoc, in-process, once, when the document is first asked for).

Keys: full names of messages, fields ("pkg.Message.field"), enums, enum values
("pkg.Enum.VALUE"), services and methods ("pkg.Service.Method").
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc_tools
import structlog
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

log = structlog.get_logger("settle.gateway")
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6  # FileDescriptorProto field numbers
_FIELD, _NESTED, _NESTED_ENUM, _VALUE, _METHOD = 2, 3, 4, 2, 2


def _include_paths(protos_dir: Path) -> list[str]:
    site = Path(annotations_pb2.__file__).resolve().parents[2]  # google/api/*.proto
    wkt = Path(grpc_tools.__file__).resolve().parent / "_proto"  # google/protobuf/*.proto
    return [f"-I{protos_dir}", f"-I{site}", f"-I{wkt}"]


def _compile(protos_dir: Path, files: list[str]) -> descriptor_pb2.FileDescriptorSet | None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        args = [
            "protoc",
            *_include_paths(protos_dir),
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *files,
        ]
        if protoc.main(args) != 0 or not out.exists():
            return None
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _text(location) -> str:
    raw = location.leading_comments or location.trailing_comments
    return "\n".join(line.strip() for line in raw.strip().splitlines()).strip()


def _paths(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    names: dict[tuple[int, ...], str] = {}

    def enum(path, full, proto):
        names[path] = full
        for i, value in enumerate(proto.value):
            names[(*path, _VALUE, i)] = f"{full}.{value.name}"

    def message(path, full, proto):
        names[path] = full
        for i, field in enumerate(proto.field):
            names[(*path, _FIELD, i)] = f"{full}.{field.name}"
        for i, nested in enumerate(proto.nested_type):
            message((*path, _NESTED, i), f"{full}.{nested.name}", nested)
        for i, nested in enumerate(proto.enum_type):
            enum((*path, _NESTED_ENUM, i), f"{full}.{nested.name}", nested)

    prefix = file.package + "." if file.package else ""
    for i, proto in enumerate(file.message_type):
        message((_MESSAGE, i), prefix + proto.name, proto)
    for i, proto in enumerate(file.enum_type):
        enum((_ENUM, i), prefix + proto.name, proto)
    for i, service in enumerate(file.service):
        names[(_SERVICE, i)] = prefix + service.name
        for j, method in enumerate(service.method):
            names[(_SERVICE, i, _METHOD, j)] = f"{prefix}{service.name}.{method.name}"
    return names


def load_comments(protos_dir: Path, files: list[str]) -> dict[str, str]:
    """Comments by full name; empty (with a warning) when the protos cannot be read."""
    try:
        compiled = _compile(protos_dir, files) if protos_dir.is_dir() else None
    except Exception:  # descriptions are a nicety; the document must not fail for them
        log.exception("could not compile the protos for their comments")
        compiled = None
    if compiled is None:
        log.warning(
            "the API document has no descriptions: protos not found", protos=str(protos_dir)
        )
        return {}
    comments = {}
    for file in compiled.file:
        names = _paths(file)
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            if name and (text := _text(location)):
                comments[name] = text
    return comments
