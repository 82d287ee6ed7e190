"""``Fn::ForEach`` of ``AWS::LanguageExtensions``, expanded offline (the SAM translator, moto and
the deploy-time rules know nothing of it).

What CloudFormation does: ``Fn::ForEach::<name>: [Identifier, Collection, {OutputKey: Body}]``
under ``Resources``, ``Outputs`` or ``Conditions`` becomes one ``OutputKey`` per item of the
collection (a list, or a ``Ref`` to a CommaDelimitedList parameter). In the key, ``${Id}`` is
the item and ``&{Id}`` the item without its non-alphanumeric characters; in the body,
``{"Ref": "Id"}`` and ``${Id}`` inside ``Fn::Sub`` are the item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECTIONS = ("Resources", "Outputs", "Conditions")
PREFIX = "Fn::ForEach::"


class ForEachError(ValueError):
    """An ``Fn::ForEach`` that cannot be expanded offline (its collection is not a list or a
    parameter)."""


def expand_for_each(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` with every top-level ``Fn::ForEach`` of its sections expanded.

    ``parameters``: parameter name -> value (a list for a CommaDelimitedList)."""
    out = dict(template)
    for section in SECTIONS:
        if section in template:
            out[section] = _expand_section(template[section], parameters, section)
    return out


def _expand_section(
    section: Mapping[str, Any], parameters: Mapping[str, Any], where: str
) -> dict[str, Any]:
    expanded: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(PREFIX):
            expanded[key] = value
            continue
        identifier, collection, bodies = value
        for item in _collection(collection, parameters, f"{where}.{key}"):
            for output_key, body in bodies.items():
                name = output_key.replace("${" + identifier + "}", item).replace(
                    "&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", item)
                )
                expanded[name] = _replace(body, identifier, item)
    return expanded


def _collection(value: Any, parameters: Mapping[str, Any], where: str) -> list[str]:
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        value = parameters[value["Ref"]]
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ForEachError(f"{where}: the collection must be a list or a list parameter")
    return value


def _replace(node: Any, identifier: str, item: str) -> Any:
    if isinstance(node, list):
        return [_replace(v, identifier, item) for v in node]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": identifier}:
        return item
    if set(node) == {"Fn::Sub"}:
        body = node["Fn::Sub"]
        if isinstance(body, str):
            return {"Fn::Sub": body.replace("${" + identifier + "}", item)}
        text, variables = body
        return {
            "Fn::Sub": [
                text.replace("${" + identifier + "}", item),
                _replace(variables, identifier, item),
            ]
        }
    return {k: _replace(v, identifier, item) for k, v in node.items()}
