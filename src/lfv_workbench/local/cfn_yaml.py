"""Read a CloudFormation/SAM YAML template: short-form tags (``!Ref``, ``!Sub``...) become their
JSON form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), as CloudFormation itself reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class TemplateLoadError(Exception):
    """The template is not readable YAML, or not a mapping."""


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader plus the CloudFormation tags; dates stay strings."""


_CfnLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _CfnLoader.yaml_implicit_resolvers.items()
}


def _construct(loader: _CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value = _construct(loader, node)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template_text(text: str, *, source: str = "<template>") -> dict[str, Any]:
    """Parse template text; raise ``TemplateLoadError`` naming ``source`` when it is not one."""
    try:
        document = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise TemplateLoadError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateLoadError(f"{source}: not a CloudFormation template (no Resources mapping)")
    return document


def load_template(path: Path) -> dict[str, Any]:
    """Parse the template at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateLoadError(f"{path}: cannot read the template: {error}") from error
    return load_template_text(text, source=str(path))
