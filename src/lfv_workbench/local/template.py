"""template.yaml as the local stack reads it: loaded, language extensions resolved, transformed
by SAM offline, and its static expressions (parameters, mappings, conditions) evaluated.

The YAML loader is aws-sam-translator's (``samtranslator.yaml_helper.yaml_parse``, the same
reading ``sam`` gives a template: short-form tags such as ``!Ref`` become their JSON form); it
is a pinned dependency of the ``cli`` extra, which the local stack installs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3

#: moto's default account; the translator needs one to build ARNs.
ACCOUNT_ID = "123456789012"
#: Where the translated template says the code is; never read (the function is not created).
LOCAL_CODE_URI = "s3://lfv-monitor-local-code/poller.zip"
#: The AWS managed policies SAM may attach by name, so the translator needs no IAM call.
MANAGED_POLICIES: Mapping[str, str] = {
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ),
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaSQSQueueExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
    ),
}


class StackDeployError(Exception):
    """The template could not be transformed or the stack could not be created."""


class TemplateLoadError(StackDeployError):
    """The template is not readable YAML, or not a CloudFormation template."""


def load_template_text(text: str, *, source: str = "<template>") -> dict[str, Any]:
    """Parse template text; raise ``TemplateLoadError`` naming ``source`` when it is not one."""
    import yaml
    from samtranslator.yaml_helper import yaml_parse

    try:
        document = yaml_parse(text)
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


def pseudo_parameters(region: str, stack_name: str) -> dict[str, str]:
    """The pseudo parameters CloudFormation gives a stack in moto's account."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }


def resolve_language_extensions(
    template: dict[str, Any], parameters: Mapping[str, str]
) -> dict[str, Any]:
    """Resolve ``DeletionPolicy``/``UpdateReplacePolicy`` written as ``Fn::FindInMap`` or ``Ref``
    and drop ``AWS::LanguageExtensions`` from ``Transform`` (moto and the translator lack it)."""
    template = copy.deepcopy(template)
    transform = template.get("Transform")
    if isinstance(transform, list):
        rest = [name for name in transform if name != "AWS::LanguageExtensions"]
        template["Transform"] = rest[0] if len(rest) == 1 else rest
    values = parameter_values(template, parameters)
    mappings = template.get("Mappings", {})
    for logical_id, resource in template["Resources"].items():
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            value = resource.get(attribute)
            if isinstance(value, dict):
                resource[attribute] = static_value(
                    value, values, mappings, where=f"{logical_id}.{attribute}"
                )
    return template


def static_value(
    value: Any,
    parameters: Mapping[str, Any],
    mappings: Mapping[str, Any],
    *,
    where: str,
    conditions: Mapping[str, Any] | None = None,
) -> Any:
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if set(value) == {"Fn::If"} and conditions is not None:
        name, when_true, when_false = value["Fn::If"]
        chosen = when_true if static_condition(name, conditions, parameters, where) else when_false
        return static_value(chosen, parameters, mappings, where=where, conditions=conditions)
    if set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        items = static_value(items, parameters, mappings, where=where, conditions=conditions)
        if isinstance(items, list):
            return separator.join(
                str(static_value(i, parameters, mappings, where=where, conditions=conditions))
                for i in items
            )
    if set(value) == {"Fn::FindInMap"}:
        name, top, second = (
            static_value(part, parameters, mappings, where=where) for part in value["Fn::FindInMap"]
        )
        try:
            return mappings[name][top][second]
        except KeyError as error:
            raise StackDeployError(f"{where}: no mapping entry {name}/{top}/{second}") from error
    raise StackDeployError(f"{where}: cannot resolve {json.dumps(value)} without AWS")


def static_condition(
    name: str, conditions: Mapping[str, Any], parameters: Mapping[str, Any], where: str
) -> bool:
    """A template condition's value from the parameters (Equals, Not, And, Or, Condition)."""
    if name not in conditions:
        raise StackDeployError(f"{where}: the template has no condition {name}")
    return bool(_ConditionEvaluator(name, conditions, parameters, where).evaluate(conditions[name]))


class _ConditionEvaluator:
    """Evaluates the intrinsic functions a condition may use, one method per function."""

    def __init__(
        self, name: str, conditions: Mapping[str, Any], parameters: Mapping[str, Any], where: str
    ) -> None:
        self.name, self.conditions, self.parameters, self.where = (
            name,
            conditions,
            parameters,
            where,
        )
        self.functions: dict[str, Callable[[Any], Any]] = {
            "Fn::Join": self._join,
            "Condition": lambda argument: self.evaluate(self.conditions[argument]),
            "Fn::Equals": self._equals,
            "Fn::Not": lambda argument: not self.evaluate(argument[0]),
            "Fn::And": lambda argument: all(self.evaluate(a) for a in argument),
            "Fn::Or": lambda argument: any(self.evaluate(a) for a in argument),
        }

    def evaluate(self, node: Any) -> Any:
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        ((function, argument),) = node.items()
        if function == "Ref" and argument in self.parameters:
            return self.parameters[argument]
        if function not in self.functions:
            raise StackDeployError(
                f"{self.where}: cannot evaluate {function} in condition {self.name}"
            )
        return self.functions[function](argument)

    def _join(self, argument: Any) -> str:
        separator, items = argument
        items = self.evaluate(items)
        return str(separator).join(str(i) for i in (items if isinstance(items, list) else [items]))

    def _equals(self, argument: Any) -> bool:
        left, right = (self.evaluate(a) for a in argument)
        return str(left) == str(right)


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise StackDeployError(
            f"unknown template parameter(s) {', '.join(unknown)}; "
            f"the template declares {', '.join(sorted(declared))}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw = given.get(name, spec.get("Default"))
        if raw is None:
            raise StackDeployError(f"template parameter {name} has no default: give a value")
        raw = str(raw)
        values[name] = raw.split(",") if spec.get("Type") == "CommaDelimitedList" else raw
    return values


def sam_transform(
    template: dict[str, Any], parameters: Mapping[str, str], *, region: str
) -> dict[str, Any]:
    """The plain CloudFormation that ``sam deploy`` would send, made offline."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = LOCAL_CODE_URI
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            resource.setdefault("Properties", {})["ContentUri"] = LOCAL_CODE_URI
    values: dict[str, Any] = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
    }
    try:
        # A session with the region and fixed credentials: the translator reads the region from
        # it and never calls AWS (the account id and the managed-policy map are given).
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        translator = Translator(dict(MANAGED_POLICIES), Parser(), boto_session=session)
        result: dict[str, Any] = translator.translate(
            template, values, get_managed_policy_map=lambda: dict(MANAGED_POLICIES)
        )
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes)
        raise StackDeployError(f"SAM transform failed: {causes}") from error
    return result
