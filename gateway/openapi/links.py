"""OpenAPI links: from every operation that makes a resource (answers it without taking its id:
a create, a raise) to every operation that takes that resource's id in its path, so that a
client (or Schemathesis' stateful phase) can follow create → get, update and the actions. A
resource name (`customers/{id}`) cannot fill a path parameter `{id}` (a link cannot cut a
string), so the linked resources carry their id on its own, in the output-only field `uid`
(AIP-148), and the links read `$response.body#/uid`.

Which collection a message is the resource of comes from the routes: the GET of `{name=C/*}`
answers the resource of collection C."""

from __future__ import annotations

from collections import defaultdict

from google.protobuf.descriptor import Descriptor

from gateway.routing import Route

UID = "uid"


def _collection(route: Route) -> str | None:
    """C when the route's only variable is `{field=C/*}`."""
    variables = route.template.variables
    if len(variables) != 1 or len(variables[0].segments) != 2 or variables[0].segments[1] != "*":
        return None
    return variables[0].segments[0]


def _resources(routes: list[Route]) -> dict[str, Descriptor]:
    """Collection → the message its GET-by-name answers, for messages that carry a `uid`."""
    found = {}
    for route in routes:
        output = route.rpc.descriptor.output_type
        variables = route.template.variables
        by_name = len(variables) == 1 and variables[0].field_path == "name"
        if (
            route.method == "GET"
            and by_name
            and not route.template.verb
            and UID in (output.fields_by_name)
        ):
            collection = _collection(route)
            if collection is not None:
                found[collection] = output
    return found


def links(routes: list[Route], operations: dict[Route, tuple[str, list[dict]]]) -> dict:
    """operationId → its 200 response's links. `operations` gives each route its operationId
    and path parameters."""
    resources = _resources(routes)
    takers: dict[str, list[tuple[str, str]]] = defaultdict(list)  # message → (operation, param)
    taking = set()
    for route in routes:
        collection = _collection(route)
        operation_id, parameters = operations[route]
        path_parameters = [p["name"] for p in parameters if p["in"] == "path"]
        if collection in resources and len(path_parameters) == 1:
            message = resources[collection].full_name
            takers[message].append((operation_id, path_parameters[0]))
            taking.add(operation_id)
    result: dict[str, dict] = {}
    for route in routes:
        rpc = route.rpc
        if rpc.server_streaming or rpc.descriptor.output_type.full_name not in takers:
            continue
        operation_id = operations[route][0]
        if operation_id in taking:
            continue  # it takes the id it answers: nothing new to follow
        result[operation_id] = {
            f"{target}": {
                "operationId": target,
                "parameters": {f"path.{parameter}": f"$response.body#/{UID}"},
                "description": f"`{UID}` of the answer is the `{{{parameter}}}` of {target}.",
            }
            for target, parameter in takers[rpc.descriptor.output_type.full_name]
        }
    return result
