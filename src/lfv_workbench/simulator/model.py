"""The carried Lookout for Vision service model, as the simulator's contract.

Routing (method + URI template), request parsing (uri, querystring, header and body members) and
validation (required members, types, lengths, ranges, patterns, enums) all come from the model
that ``lfv_monitor.clients`` carries, so the simulator cannot drift from what clients send.
The same walker validates the simulator's own responses in the tests.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape

from lfv_monitor.clients import API_VERSION, DATA_PATH, OPERATIONS, SERVICE_NAME


@functools.cache
def service_model() -> ServiceModel:
    """The carried model, loaded once through botocore's own loader."""
    loader = Loader(extra_search_paths=[DATA_PATH])
    data = loader.load_service_model(SERVICE_NAME, "service-2", API_VERSION)
    return ServiceModel(data, SERVICE_NAME)


def error_status(code: str) -> int:
    """HTTP status of a modelled error (500 for anything the model does not know)."""
    try:
        shape = service_model().shape_for(code)
    except Exception:
        return 500
    status: int = shape.metadata.get("error", {}).get("httpStatusCode", 500)
    return status


def error_members(code: str) -> tuple[str, ...]:
    """Body members of a modelled error, other than ``Message`` and header-bound ones."""
    try:
        shape: Any = service_model().shape_for(code)
    except Exception:
        return ()
    return tuple(
        name
        for name, member in shape.members.items()
        if name != "Message" and "location" not in member.serialization
    )


# --- routing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    operation: OperationModel
    method: str
    segments: tuple[str, ...]  # literal segments, or "{name}" placeholders


@functools.cache
def routes() -> tuple[Route, ...]:
    model = service_model()
    out = []
    for name in OPERATIONS:
        op = model.operation_model(name)
        uri = op.http["requestUri"].split("?")[0]
        out.append(Route(op, op.http["method"], tuple(uri.strip("/").split("/"))))
    return tuple(out)


def match_route(method: str, path: str) -> tuple[OperationModel, dict[str, str]] | None:
    """The operation a request is for, and its URI parameters (percent-decoded)."""
    segments = path.strip("/").split("/")
    for route in routes():
        if route.method != method or len(route.segments) != len(segments):
            continue
        params: dict[str, str] = {}
        for template, value in zip(route.segments, segments, strict=True):
            if template.startswith("{") and template.endswith("}"):
                params[template[1:-1].rstrip("+")] = urllib.parse.unquote(value)
            elif template != value:
                break
        else:
            return route.operation, params
    return None


class RequestParseError(Exception):
    """A request member could not be read (for example a non-integer ``maxResults``)."""


def _raw_member(
    location: str | None,
    wire: str,
    uri_params: dict[str, str],
    query: dict[str, list[str]],
    lower_headers: dict[str, str],
) -> tuple[bool, Any]:
    """(found, raw text) of a member bound to the uri, the query string or a header."""
    if location == "uri":
        return (wire in uri_params, uri_params.get(wire))
    if location == "querystring":
        return (wire in query, query[wire][0] if wire in query else None)
    return (wire.lower() in lower_headers, lower_headers.get(wire.lower()))


def _as_integer(name: str, raw: Any) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise RequestParseError(
            f"Value '{raw}' at '{_camel(name)}' failed to satisfy constraint: "
            "Member must be an integer"
        ) from exc


def parse_input(
    operation: OperationModel,
    uri_params: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the operation's input parameters from every place the model binds them."""
    shape: Any = operation.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    lower_headers = {k.lower(): v for k, v in headers.items()}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location not in ("uri", "querystring", "header"):
            if name in body:
                params[name] = body[name]
            continue
        wire = member.serialization.get("name", name)
        found, raw = _raw_member(location, wire, uri_params, query, lower_headers)
        if found:
            params[name] = _as_integer(name, raw) if member.type_name == "integer" else raw
    return params


# --- validation --------------------------------------------------------------------------


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    translated = pattern
    if r"\p{" in translated:
        # Python's ``re`` has no Unicode property classes: letters and digits become ``\w``,
        # separators ``\s`` (close enough for tag keys and values).
        translated = translated.replace(r"\p{L}\p{Z}\p{N}", r"\w\s").replace(r"\p{L}", r"\w")
        translated = translated.replace(r"\p{Z}", r"\s").replace(r"\p{N}", r"\d")
    return re.compile(translated, re.DOTALL)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def validate(shape: Shape, value: Any, path: str = "", *, anchored: bool = True) -> list[str]:
    """Every way ``value`` breaks ``shape``, as AWS-style messages naming the member.

    ``anchored``: patterns must match the whole string (the service's reading of name
    patterns); ``False`` uses Smithy's unanchored search, for responses.
    """
    errors: list[str] = []
    _walk(shape, value, path, errors, anchored)
    return errors


def _fail(errors: list[str], path: str, value: Any, constraint: str) -> None:
    shown = value if isinstance(value, str | int | float) else type(value).__name__
    if isinstance(shown, str) and len(shown) > 80:
        shown = shown[:77] + "..."
    errors.append(
        f"Value '{shown}' at '{path or 'input'}' failed to satisfy constraint: {constraint}"
    )


def _check_length(errors: list[str], path: str, value: Any, meta: dict[str, Any]) -> None:
    if "min" in meta and len(value) < meta["min"]:
        _fail(
            errors, path, value, f"Member must have length greater than or equal to {meta['min']}"
        )
    if "max" in meta and len(value) > meta["max"]:
        _fail(errors, path, value, f"Member must have length less than or equal to {meta['max']}")


def _walk(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    check = _CHECKS.get(shape.type_name)
    if check is not None:
        check(shape, value, path, errors, anchored)


def _member_path(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


def _walk_structure(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    if not isinstance(value, dict):
        _fail(errors, path, value, "Member must be a structure")
        return
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(
                f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _walk(member, value[name], _member_path(path, name), errors, anchored)


def _walk_list(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    if not isinstance(value, list):
        _fail(errors, path, value, "Member must be a list")
        return
    _check_length(errors, path, value, shape.metadata)
    for i, item in enumerate(value):
        _walk(shape.member, item, f"{path}.{i + 1}", errors, anchored)


def _walk_string(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    if not isinstance(value, str):
        _fail(errors, path, value, "Member must be a string")
        return
    _check_length(errors, path, value, shape.metadata)
    if shape.enum and value not in shape.enum:
        _fail(errors, path, value, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = _compile(pattern)
        if not (compiled.fullmatch(value) if anchored else compiled.search(value)):
            _fail(errors, path, value, f"Member must satisfy regular expression pattern: {pattern}")


def _walk_integer(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    meta = shape.metadata
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(errors, path, value, "Member must be an integer")
        return
    if "min" in meta and value < meta["min"]:
        _fail(errors, path, value, f"Member must have value greater than or equal to {meta['min']}")
    if "max" in meta and value > meta["max"]:
        _fail(errors, path, value, f"Member must have value less than or equal to {meta['max']}")


def _walk_timestamp(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(errors, path, value, "Member must be a timestamp in epoch seconds")


def _walk_boolean(shape: Any, value: Any, path: str, errors: list[str], anchored: bool) -> None:
    if not isinstance(value, bool):
        _fail(errors, path, value, "Member must be a boolean")


#: One check per shape type the carried model uses; other types are not validated.
_CHECKS: dict[str, Callable[[Any, Any, str, list[str], bool], None]] = {
    "structure": _walk_structure,
    "list": _walk_list,
    "string": _walk_string,
    "integer": _walk_integer,
    "long": _walk_integer,
    "timestamp": _walk_timestamp,
    "boolean": _walk_boolean,
}


def validate_input(operation: OperationModel, params: dict[str, Any]) -> list[str]:
    shape = operation.input_shape
    return validate(shape, params) if shape is not None else []


def validate_output(operation_name: str, body: dict[str, Any]) -> list[str]:
    """Check a response body against the operation's output shape (used by the tests)."""
    shape = service_model().operation_model(operation_name).output_shape
    return validate(shape, body, anchored=False) if shape is not None else []


def shape(name: str) -> Shape:
    return service_model().shape_for(name)
