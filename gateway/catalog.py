"""Which RPCs exist: discovered from the generated descriptors of every Settle service present in
gen/, so a service or method added to a proto appears here without gateway code."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

# Backend name → its proto package settle.<name>.v1: the services of settle/<name>/v1/<name>.proto,
# then those of the package's other files (outbox.proto: every backend's own OutboxService).
BACKENDS = ("accounts", "disputes", "escalation")


@dataclass(frozen=True)
class Rpc:
    backend: str  # "accounts": whose address (<BACKEND>_ADDR) serves it
    descriptor: MethodDescriptor

    @property
    def name(self) -> str:
        """ "settle.accounts.v1.AccountsService/GetCustomer": the key of the access table."""
        return f"{self.descriptor.containing_service.full_name}/{self.descriptor.name}"

    @property
    def path(self) -> str:
        """The gRPC method path, "/settle.accounts.v1.AccountsService/GetCustomer"."""
        return "/" + self.name

    @property
    def request_class(self):
        return message_factory.GetMessageClass(self.descriptor.input_type)

    @property
    def response_class(self):
        return message_factory.GetMessageClass(self.descriptor.output_type)

    @property
    def client_streaming(self) -> bool:
        return self.descriptor.client_streaming

    @property
    def server_streaming(self) -> bool:
        return self.descriptor.server_streaming


@dataclass(frozen=True)
class Catalog:
    services: tuple[tuple[str, ServiceDescriptor], ...]  # (backend, service)

    @property
    def rpcs(self) -> tuple[Rpc, ...]:
        return tuple(
            Rpc(backend, method) for backend, service in self.services for method in service.methods
        )

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(backend for backend, _ in self.services))

    def service_names(self, backend: str | None = None) -> tuple[str, ...]:
        return tuple(s.full_name for b, s in self.services if backend in (None, b))


def load_catalog(backends: tuple[str, ...] = BACKENDS) -> Catalog:
    """Every service of every backend whose generated module exists (others: not built yet)."""
    services = []
    for backend in backends:
        module_name = f"settle.{backend}.v1.{backend}_pb2"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        for found in (module, *_other_modules(backend)):
            services += [(backend, s) for s in found.DESCRIPTOR.services_by_name.values()]
    return Catalog(tuple(services))


def _other_modules(backend: str) -> list:
    """The package's generated modules besides <backend>_pb2, by name."""
    package = importlib.import_module(f"settle.{backend}.v1")
    names = sorted(
        name
        for _, name, _ in pkgutil.iter_modules(package.__path__)
        if name.endswith("_pb2") and name != f"{backend}_pb2"
    )
    return [importlib.import_module(f"settle.{backend}.v1.{name}") for name in names]
