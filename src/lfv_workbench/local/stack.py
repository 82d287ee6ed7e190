"""Deploy ``template.yaml`` to moto's CloudFormation, over HTTP, with nothing from AWS.

Steps:

1. Read the template (CloudFormation tags) and resolve what ``AWS::LanguageExtensions`` would
   (a ``DeletionPolicy`` looked up in a mapping by a parameter).
2. Transform it with aws-sam-translator, offline: a fixed account id, pseudo parameters given,
   and a fixed managed-policy map instead of a call to IAM.
3. Split the resources: the types moto's CloudFormation can create stay in the stack; the others
   are taken out. References to a removed resource are replaced by a stand-in name or ARN.
4. Create the stack in moto and wait for it.
5. For each removed resource: create its equivalent through the service API (SNS topic policy
   and subscriptions, CloudWatch alarms), or record it as not emulated (the Lambda function and
   its invoke config, the Scheduler schedule: the poll cycle runs in-process instead; the
   nested stack with the EventBridge schema registry; the Slack channel). Settings moto's
   CloudFormation ignores are applied through the API too (the table's TTL and point-in-time
   recovery).

Everything done differently from AWS is listed in ``StackOutputs.gaps``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import boto3

from lfv_workbench.local.cfn_yaml import load_template

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

#: Resource types taken out of the stack on purpose, although moto may model some of them.
NOT_EMULATED: Mapping[str, str] = {
    "AWS::Lambda::Function": (
        "not created: the CLI runs the same handler in-process; the deployment test runs the"
        " packaged code in an emulated Lambda runtime"
    ),
    "AWS::Lambda::EventInvokeConfig": "not created: belongs to the function, which is not created",
    "AWS::Lambda::Permission": "not created: belongs to the function, which is not created",
    "AWS::Lambda::Version": "not created: belongs to the function, which is not created",
    "AWS::Lambda::EventSourceMapping": (
        "not created: belongs to the function, which is not created; the target queue is"
        " created and the poller's handler can be given its messages directly"
    ),
    "AWS::Scheduler::Schedule": (
        "not created: `lfv-monitor` and the tests run the cycle themselves on their own clock"
    ),
    "AWS::CloudFormation::Stack": (
        "not created: the nested stack holds the EventBridge schema registry, which moto lacks"
    ),
    "AWS::EventSchemas::Registry": "not emulated: moto has no EventBridge schema registry",
    "AWS::EventSchemas::Schema": "not emulated: moto has no EventBridge schema registry",
    "AWS::Chatbot::SlackChannelConfiguration": "not emulated: no Slack here",
    "AWS::ApiGateway::RestApi": (
        "not created: moto does not import the OpenAPI body SAM generates; the audit API's"
        " handler is tested in-process (tests/integration/test_audit_api.py)"
    ),
    "AWS::ApiGateway::Deployment": "not created: belongs to the audit API, which is not created",
    "AWS::ApiGateway::Stage": "not created: belongs to the audit API, which is not created",
}

StackStatus = Literal["api", "not-emulated", "fixup", "condition-false"]


class StackDeployError(Exception):
    """The template could not be transformed or the stack could not be created."""


@dataclass(frozen=True)
class Gap:
    """A resource, or a setting, that the local stack handles differently from AWS."""

    logical_id: str
    resource_type: str
    handling: StackStatus
    note: str


@dataclass(frozen=True)
class StackOutputs:
    """The deployed stack's outputs (``as_dict()``: every output by its template name)."""

    stack_name: str
    region: str
    endpoint: str
    table_name: str
    event_bus_name: str
    event_bus_arn: str
    topic_arn: str
    alarm_topic_arn: str
    function_name: str
    function_arn: str
    dead_letter_queue_url: str
    scheduler_dead_letter_queue_url: str
    schedule_name: str
    dashboard_name: str
    outputs: Mapping[str, str] = field(repr=False)
    gaps: tuple[Gap, ...] = ()
    #: The CloudFormation the SAM transform made (before the local stack's substitutions).
    template: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: Every template parameter's value (given or default; lists for CommaDelimitedList).
    parameters: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, str]:
        return dict(self.outputs)

    def function_environment(self, logical_id: str = "PollerFunction") -> dict[str, str]:
        """The environment variables the template gives function ``logical_id``, resolved as
        CloudFormation would on this stack: resources through the stack outputs that name them,
        parameters, pseudo parameters and mappings."""
        return function_environment(self, logical_id)

    def gap(self, logical_id: str) -> Gap:
        """The gap recorded for ``logical_id`` (KeyError when it was deployed as written)."""
        for gap in self.gaps:
            if gap.logical_id == logical_id:
                return gap
        raise KeyError(logical_id)


def function_environment(stack: StackOutputs, logical_id: str = "PollerFunction") -> dict[str, str]:
    """See :meth:`StackOutputs.function_environment`."""
    resources: Mapping[str, Any] = stack.template.get("Resources", {})
    function = resources.get(logical_id)
    if not function or function.get("Type") != "AWS::Lambda::Function":
        functions = sorted(
            name for name, r in resources.items() if r.get("Type") == "AWS::Lambda::Function"
        )
        raise StackDeployError(
            f"the transformed template has no function {logical_id}; "
            f"functions: {', '.join(functions) or 'none'}"
        )

    # A resource's Ref or GetAtt value is the stack output whose Value is that same expression.
    def expression(value: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), str):
            value = {"Fn::GetAtt": value["Fn::GetAtt"].split(".", 1)}
        return json.dumps(value, sort_keys=True)

    by_expression = {
        expression(output["Value"]): stack.outputs[key]
        for key, output in stack.template.get("Outputs", {}).items()
        if key in stack.outputs
    }
    names: dict[str, Any] = {
        **stack.parameters,
        "AWS::Region": stack.region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack.stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }
    mappings: Mapping[str, Any] = stack.template.get("Mappings", {})
    variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    environment: dict[str, str] = {}
    for name, value in variables.items():
        where = f"{logical_id} environment variable {name}"
        if isinstance(value, dict) and expression(value) in by_expression:
            environment[name] = by_expression[expression(value)]
            continue
        resolved = _static_value(
            value, names, mappings, where=where, conditions=stack.template.get("Conditions", {})
        )
        if isinstance(resolved, dict | list):
            raise StackDeployError(
                f"{where}: {json.dumps(value)} names no stack output, parameter or mapping"
            )
        environment[name] = str(resolved)
    return environment


# ------------------------------------------------------------------------------ template steps


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
    values = _parameter_values(template, parameters)
    mappings = template.get("Mappings", {})
    for logical_id, resource in template["Resources"].items():
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            value = resource.get(attribute)
            if isinstance(value, dict):
                resource[attribute] = _static_value(
                    value, values, mappings, where=f"{logical_id}.{attribute}"
                )
    return template


def _static_value(
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
        chosen = when_true if _static_condition(name, conditions, parameters, where) else when_false
        return _static_value(chosen, parameters, mappings, where=where, conditions=conditions)
    if set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        items = _static_value(items, parameters, mappings, where=where, conditions=conditions)
        if isinstance(items, list):
            return separator.join(
                str(_static_value(i, parameters, mappings, where=where, conditions=conditions))
                for i in items
            )
    if set(value) == {"Fn::FindInMap"}:
        name, top, second = (
            _static_value(part, parameters, mappings, where=where)
            for part in value["Fn::FindInMap"]
        )
        try:
            return mappings[name][top][second]
        except KeyError as error:
            raise StackDeployError(f"{where}: no mapping entry {name}/{top}/{second}") from error
    raise StackDeployError(f"{where}: cannot resolve {json.dumps(value)} without AWS")


def _static_condition(
    name: str, conditions: Mapping[str, Any], parameters: Mapping[str, Any], where: str
) -> bool:
    """A template condition's value from the parameters (Equals, Not, And, Or, Condition)."""

    def evaluate(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Ref" and argument in parameters:
                return parameters[argument]
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(str(i) for i in _as_list(evaluate(items)))
            if function == "Condition":
                return evaluate(conditions[argument])
            if function == "Fn::Equals":
                left, right = (evaluate(a) for a in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not evaluate(argument[0])
            if function == "Fn::And":
                return all(evaluate(a) for a in argument)
            if function == "Fn::Or":
                return any(evaluate(a) for a in argument)
            raise StackDeployError(f"{where}: cannot evaluate {function} in condition {name}")
        return node

    if name not in conditions:
        raise StackDeployError(f"{where}: the template has no condition {name}")
    return bool(evaluate(conditions[name]))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
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


def moto_resource_types() -> frozenset[str]:
    """The resource types moto's CloudFormation can create (from the installed moto)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return frozenset(get_model_map()) | frozenset(NULL_MODELS)


def _stand_in(
    logical_id: str, resource_type: str, *, stack_name: str, region: str
) -> tuple[str, Callable[[str], str]]:
    """A name for ``Ref`` and a value per ``Fn::GetAtt`` attribute for a removed resource."""
    name = f"{stack_name}-{logical_id}"
    service = resource_type.split("::")[1].lower()
    if resource_type == "AWS::Lambda::Function":
        arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    elif resource_type == "AWS::CloudWatch::Alarm":
        arn = f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}"
    else:
        arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{logical_id}"
    return name, lambda attribute: arn if attribute.endswith("Arn") else name


def _substitute(value: Any, stand_ins: Mapping[str, tuple[str, Callable[[str], str]]]) -> Any:
    """``value`` with every Ref/GetAtt/Sub reference to a removed resource made a literal."""
    if isinstance(value, list):
        return [_substitute(item, stand_ins) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in stand_ins:
        return stand_ins[value["Ref"]][0]
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        parts = target.split(".", 1) if isinstance(target, str) else target
        if parts[0] in stand_ins:
            return stand_ins[parts[0]][1](str(parts[1]))
    if set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        text, variables = (body, {}) if isinstance(body, str) else (body[0], body[1])

        def replace(match: re.Match[str]) -> str:
            ref, _, attribute = match[1].partition(".")
            if ref in variables or ref not in stand_ins:
                return match[0]
            name, attr = stand_ins[ref]
            return attr(attribute) if attribute else name

        text = re.sub(r"\$\{([^!}][^}]*)\}", replace, text)
        variables = _substitute(variables, stand_ins)
        return {"Fn::Sub": text if not variables else [text, variables]}
    return {key: _substitute(item, stand_ins) for key, item in value.items()}


# ------------------------------------------------------------------------------ API equivalents


@dataclass
class _ApiResource:
    logical_id: str
    resource_type: str
    properties: Any
    #: output key -> JSON path inside ``properties`` that moto resolves for us
    deferred: dict[str, list[str | int]] = field(default_factory=dict)
    present_key: str = ""


def _resolve_static(value: Any, parameters: Mapping[str, Any]) -> Any:
    """Resolve Refs to parameters and pseudo parameters (lists stay lists)."""
    if isinstance(value, list):
        return [_resolve_static(item, parameters) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            names = re.findall(r"\$\{([^!}][^}]*)\}", value["Fn::Sub"])
            if all(name in parameters for name in names):
                return re.sub(
                    r"\$\{([^!}][^}]*)\}", lambda m: str(parameters[m[1]]), value["Fn::Sub"]
                )
        return {key: _resolve_static(item, parameters) for key, item in value.items()}
    return value


def _intrinsic_paths(value: Any, path: list[str | int]) -> Iterable[list[str | int]]:
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            yield path
            return
        for key, item in value.items():
            yield from _intrinsic_paths(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _intrinsic_paths(item, [*path, index])


def _get(value: Any, path: list[str | int]) -> Any:
    for key in path:
        value = value[key]
    return value


def _set(value: Any, path: list[str | int], new: Any) -> None:
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


@functools.lru_cache(maxsize=8)
def _session(region: str) -> boto3.session.Session:
    # Fixed local credentials: nothing here may ever sign with a developer's real ones.
    # One session per region: it loads each service model once (a new one re-reads them all).
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )


def _client(service: str, endpoint: str, region: str) -> Any:
    make: Any = _session(region).client
    return make(service, endpoint_url=endpoint)


def _as_int(value: Any) -> int:
    return int(str(value))


def _create_topic_policy(resource: _ApiResource, endpoint: str, region: str) -> str:
    sns = _client("sns", endpoint, region)
    policy = json.dumps(resource.properties["PolicyDocument"])
    for topic_arn in resource.properties["Topics"]:
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)
    return "created through the SNS API (SetTopicAttributes Policy)"


def _create_subscription(resource: _ApiResource, endpoint: str, region: str) -> str:
    sns = _client("sns", endpoint, region)
    props = resource.properties
    attributes = {
        key: json.dumps(props[key]) if key == "FilterPolicy" else str(props[key])
        for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
        if key in props
    }
    sns.subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
    )
    return "created through the SNS API (Subscribe); no email is sent"


def _create_alarm(resource: _ApiResource, endpoint: str, region: str, stack_name: str) -> str:
    cloudwatch = _client("cloudwatch", endpoint, region)
    props = resource.properties
    request: dict[str, Any] = {
        "AlarmName": props.get("AlarmName", f"{stack_name}-{resource.logical_id}"),
        "EvaluationPeriods": _as_int(props["EvaluationPeriods"]),
        "Threshold": float(props["Threshold"]),
        "ComparisonOperator": props["ComparisonOperator"],
        "AlarmActions": props.get("AlarmActions", []),
        "OKActions": props.get("OKActions", []),
    }
    for key in ("AlarmDescription", "TreatMissingData"):
        if key in props:
            request[key] = props[key]
    if "DatapointsToAlarm" in props:
        request["DatapointsToAlarm"] = _as_int(props["DatapointsToAlarm"])
    if "Metrics" in props:
        # A metric-math alarm: the queries instead of one metric.
        request["Metrics"] = [
            {**query, "MetricStat": {**query["MetricStat"], "Period": _as_int(stat["Period"])}}
            if (stat := query.get("MetricStat"))
            # A Metrics Insights query (an Expression with its own Period).
            else {**query, "Period": _as_int(query["Period"])}
            if "Period" in query
            else query
            for query in props["Metrics"]
        ]
    else:
        request["MetricName"] = props["MetricName"]
        request["Namespace"] = props["Namespace"]
        request["Statistic"] = props["Statistic"]
        request["Period"] = _as_int(props["Period"])
        request["Dimensions"] = props.get("Dimensions", [])
    cloudwatch.put_metric_alarm(**request)
    return "created through the CloudWatch API (PutMetricAlarm); metrics are not evaluated"


# ------------------------------------------------------------------------------ the deployer


def deploy_stack(
    aws_endpoint: str,
    template_path: Path,
    parameters: dict[str, str],
    stack_name: str = "lfv-monitor",
    region: str = "us-east-1",
) -> StackOutputs:
    """Create ``template_path`` as stack ``stack_name`` in the moto server at ``aws_endpoint``.

    ``parameters`` are template parameters (others keep their defaults). Returns the outputs and
    the list of what the local stack does differently from AWS (``StackOutputs.gaps``).
    """
    sam_template = resolve_language_extensions(load_template(template_path), parameters)
    values = _parameter_values(sam_template, parameters)
    cfn = sam_transform(sam_template, parameters, region=region)
    transformed = copy.deepcopy(cfn)

    cfn = _refs_moto_gets_wrong(cfn)
    supported = moto_resource_types()
    resources: dict[str, Any] = cfn["Resources"]
    removed = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] in NOT_EMULATED or resource["Type"] not in supported
    }
    stand_ins = {
        logical_id: _stand_in(logical_id, r["Type"], stack_name=stack_name, region=region)
        for logical_id, r in removed.items()
    }
    kept = {
        logical_id: _substitute(resource, stand_ins)
        for logical_id, resource in resources.items()
        if logical_id not in removed
    }
    for resource in kept.values():
        depends = resource.get("DependsOn")
        if depends:
            names = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [name for name in names if name not in removed]
    outputs = _substitute(cfn.get("Outputs", {}), stand_ins)
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }
    _work_around_moto(kept, {**values, **pseudo})

    creators: dict[str, Callable[[_ApiResource], str]] = {
        "AWS::SNS::TopicPolicy": lambda r: _create_topic_policy(r, aws_endpoint, region),
        "AWS::SNS::Subscription": lambda r: _create_subscription(r, aws_endpoint, region),
        "AWS::CloudWatch::Alarm": lambda r: _create_alarm(r, aws_endpoint, region, stack_name),
    }
    gaps: list[Gap] = []
    api_resources: list[_ApiResource] = []
    for number, (logical_id, resource) in enumerate(removed.items()):
        resource_type = resource["Type"]
        if resource_type not in creators:
            note = NOT_EMULATED.get(
                resource_type, "not emulated: moto's CloudFormation has no model for this type"
            )
            gaps.append(Gap(logical_id, resource_type, "not-emulated", note))
            continue
        properties = _resolve_static(
            _substitute(resource.get("Properties", {}), stand_ins), {**values, **pseudo}
        )
        api = _ApiResource(logical_id, resource_type, properties)
        condition = resource.get("Condition")
        api.present_key = f"LfvLocal{number}Present"
        outputs[api.present_key] = {"Value": "present"}
        for index, path in enumerate(_intrinsic_paths(properties, [])):
            key = f"LfvLocal{number}Value{index}"
            outputs[key] = {"Value": _get(properties, path)}
            api.deferred[key] = path
        if condition:
            for key in (api.present_key, *api.deferred):
                outputs[key]["Condition"] = condition
        api_resources.append(api)

    moto_template = {**cfn, "Resources": kept, "Outputs": outputs}
    moto_template.pop("Transform", None)
    moto_template = _resolve_mappings(moto_template, {**values, **pseudo})
    stack_outputs = _create_stack(aws_endpoint, region, stack_name, moto_template, values)

    for api in api_resources:
        if api.present_key not in stack_outputs:
            gaps.append(
                Gap(api.logical_id, api.resource_type, "condition-false", "condition is false")
            )
            continue
        for key, path in api.deferred.items():
            _set(api.properties, path, stack_outputs[key])
        try:
            note = creators[api.resource_type](api)
        except Exception as error:
            raise StackDeployError(
                f"{api.logical_id} ({api.resource_type}): the API equivalent failed: {error}"
            ) from error
        gaps.append(Gap(api.logical_id, api.resource_type, "api", note))

    gaps.extend(_apply_ignored_settings(kept, stack_outputs, aws_endpoint, region, stack_name))
    public = {key: value for key, value in stack_outputs.items() if not key.startswith("LfvLocal")}
    stack = _outputs(
        public, tuple(gaps), stack_name=stack_name, region=region, endpoint=aws_endpoint
    )
    return replace(stack, template=transformed, parameters=values)


#: Types whose ``Ref`` moto answers with an object's repr: the property that holds the name.
_REF_IS_PROPERTY: Mapping[str, str] = {
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Archive": "ArchiveName",
}


def _refs_moto_gets_wrong(cfn: dict[str, Any]) -> dict[str, Any]:
    """``Ref`` to an event bus or archive, written as the name property it stands for."""
    names = {
        logical_id: resource["Properties"][_REF_IS_PROPERTY[resource["Type"]]]
        for logical_id, resource in cfn["Resources"].items()
        if resource["Type"] in _REF_IS_PROPERTY
        and _REF_IS_PROPERTY[resource["Type"]] in resource.get("Properties", {})
    }

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in names:
                return copy.deepcopy(names[value["Ref"]])
            return {key: walk(item) for key, item in value.items()}
        return value

    result: dict[str, Any] = walk(cfn)
    return result


def _work_around_moto(kept: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Same meaning, in the form moto's CloudFormation parses."""
    for logical_id, resource in kept.items():
        props = resource.get("Properties", {})
        # moto reads an archive's EventPattern only as a JSON string (CloudFormation takes both).
        if resource["Type"] == "AWS::Events::Archive" and isinstance(
            props.get("EventPattern"), dict
        ):
            pattern = _resolve_static(props["EventPattern"], parameters)
            if list(_intrinsic_paths(pattern, [])):
                raise StackDeployError(
                    f"{logical_id}.EventPattern: only parameters may be referenced locally"
                )
            props["EventPattern"] = json.dumps(pattern)
        # moto keeps a key policy given as an object and then fails to read it back.
        if resource["Type"] == "AWS::KMS::Key" and isinstance(props.get("KeyPolicy"), dict):
            policy = _resolve_static(props["KeyPolicy"], parameters)
            if list(_intrinsic_paths(policy, [])):
                raise StackDeployError(
                    f"{logical_id}.KeyPolicy: only parameters may be referenced locally"
                )
            props["KeyPolicy"] = json.dumps(policy)


def _resolve_mappings(template: dict[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``Fn::FindInMap`` looked up here when its keys are parameters: moto passes a Number
    parameter to the lookup as an int, so a mapping key "1" is not found."""
    mappings = template.get("Mappings", {})

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::FindInMap"}:
            try:
                return _static_value(value, parameters, mappings, where="Fn::FindInMap")
            except StackDeployError:
                pass
        return {key: walk(item) for key, item in value.items()}

    outputs = walk(template.get("Outputs", {}))
    for output in outputs.values():
        # An output looked up to a number (an alarm's Period) must still be a string.
        if isinstance(output.get("Value"), int | float):
            output["Value"] = str(output["Value"])
    return {**template, "Resources": walk(template["Resources"]), "Outputs": outputs}


def _create_stack(
    endpoint: str,
    region: str,
    stack_name: str,
    template: dict[str, Any],
    values: Mapping[str, Any],
) -> dict[str, str]:
    cloudformation = _client("cloudformation", endpoint, region)
    declared = template.get("Parameters", {})
    stack_parameters = [
        {
            "ParameterKey": name,
            "ParameterValue": ",".join(value) if isinstance(value, list) else str(value),
        }
        for name, value in values.items()
        if name in declared
    ]
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=stack_parameters,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    except Exception as error:
        raise StackDeployError(
            f"moto could not create stack {stack_name} at {endpoint}: {error}"
        ) from error
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def _apply_ignored_settings(
    kept: Mapping[str, Any],
    stack_outputs: Mapping[str, str],
    endpoint: str,
    region: str,
    stack_name: str,
) -> list[Gap]:
    """Apply the table settings moto's CloudFormation ignores (TTL, point-in-time recovery)."""
    gaps: list[Gap] = []
    cloudformation = _client("cloudformation", endpoint, region)
    physical = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        if item.get("PhysicalResourceId")
    }
    dynamodb = _client("dynamodb", endpoint, region)
    for logical_id, resource in kept.items():
        if resource["Type"] != "AWS::DynamoDB::Table" or logical_id not in physical:
            continue
        props = resource.get("Properties", {})
        table = physical[logical_id]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
            gaps.append(
                Gap(logical_id, "AWS::DynamoDB::Table", "fixup", "TTL set through UpdateTimeToLive")
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            gaps.append(
                Gap(
                    logical_id,
                    "AWS::DynamoDB::Table",
                    "fixup",
                    "point-in-time recovery set through UpdateContinuousBackups",
                )
            )
    return gaps


def _outputs(
    outputs: Mapping[str, str],
    gaps: tuple[Gap, ...],
    *,
    stack_name: str,
    region: str,
    endpoint: str,
) -> StackOutputs:
    required = {
        "table_name": "TableName",
        "event_bus_name": "EventBusName",
        "event_bus_arn": "EventBusArn",
        "topic_arn": "TopicArn",
        "alarm_topic_arn": "AlarmTopicArn",
        "function_name": "FunctionName",
        "function_arn": "FunctionArn",
        "dead_letter_queue_url": "DeadLetterQueueUrl",
        "scheduler_dead_letter_queue_url": "SchedulerDeadLetterQueueUrl",
        "schedule_name": "ScheduleName",
        "dashboard_name": "DashboardName",
    }
    missing = sorted(key for key in required.values() if key not in outputs)
    if missing:
        raise StackDeployError(f"stack {stack_name} lacks the output(s) {', '.join(missing)}")
    named: dict[str, Any] = {attribute: outputs[key] for attribute, key in required.items()}
    return StackOutputs(
        stack_name=stack_name,
        region=region,
        endpoint=endpoint,
        outputs=dict(outputs),
        gaps=gaps,
        **named,
    )
