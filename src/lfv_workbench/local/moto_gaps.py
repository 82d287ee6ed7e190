"""What moto's CloudFormation does not do as AWS does, and what the local stack does instead.

Resource types moto cannot create (or that are not emulated on purpose, ``NOT_EMULATED``) are
taken out of the stack; references to them become stand-in names or ARNs. Some of them are made
through the service API instead (SNS topic policy and subscriptions, CloudWatch alarms), and the
settings moto's CloudFormation ignores are applied the same way (the table's TTL and
point-in-time recovery). Forms moto misreads are rewritten with the same meaning. Each such
difference is a ``Gap``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3

from lfv_workbench.local.template import ACCOUNT_ID, StackDeployError, static_value

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


@dataclass(frozen=True)
class Gap:
    """A resource, or a setting, that the local stack handles differently from AWS."""

    logical_id: str
    resource_type: str
    handling: StackStatus
    note: str


def moto_resource_types() -> frozenset[str]:
    """The resource types moto's CloudFormation can create (from the installed moto)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return frozenset(get_model_map()) | frozenset(NULL_MODELS)


def stand_in(
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


def substitute(value: Any, stand_ins: Mapping[str, tuple[str, Callable[[str], str]]]) -> Any:
    """``value`` with every Ref/GetAtt/Sub reference to a removed resource made a literal."""
    if isinstance(value, list):
        return [substitute(item, stand_ins) for item in value]
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
        variables = substitute(variables, stand_ins)
        return {"Fn::Sub": text if not variables else [text, variables]}
    return {key: substitute(item, stand_ins) for key, item in value.items()}


# ------------------------------------------------------------------------------ API equivalents


@dataclass
class ApiResource:
    logical_id: str
    resource_type: str
    properties: Any
    #: output key -> JSON path inside ``properties`` that moto resolves for us
    deferred: dict[str, list[str | int]] = field(default_factory=dict)
    present_key: str = ""


def resolve_static(value: Any, parameters: Mapping[str, Any]) -> Any:
    """Resolve Refs to parameters and pseudo parameters (lists stay lists)."""
    if isinstance(value, list):
        return [resolve_static(item, parameters) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            names = re.findall(r"\$\{([^!}][^}]*)\}", value["Fn::Sub"])
            if all(name in parameters for name in names):
                return re.sub(
                    r"\$\{([^!}][^}]*)\}", lambda m: str(parameters[m[1]]), value["Fn::Sub"]
                )
        return {key: resolve_static(item, parameters) for key, item in value.items()}
    return value


def intrinsic_paths(value: Any, path: list[str | int]) -> Iterable[list[str | int]]:
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            yield path
            return
        for key, item in value.items():
            yield from intrinsic_paths(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from intrinsic_paths(item, [*path, index])


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


def client(service: str, endpoint: str, region: str) -> Any:
    make: Any = _session(region).client
    return make(service, endpoint_url=endpoint)


def _as_int(value: Any) -> int:
    return int(str(value))


def _create_topic_policy(resource: ApiResource, endpoint: str, region: str, _stack: str) -> str:
    sns = client("sns", endpoint, region)
    policy = json.dumps(resource.properties["PolicyDocument"])
    for topic_arn in resource.properties["Topics"]:
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)
    return "created through the SNS API (SetTopicAttributes Policy)"


def _create_subscription(resource: ApiResource, endpoint: str, region: str, _stack: str) -> str:
    sns = client("sns", endpoint, region)
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


def _create_alarm(resource: ApiResource, endpoint: str, region: str, stack_name: str) -> str:
    cloudwatch = client("cloudwatch", endpoint, region)
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


#: The removed resource types made through their service's API: type -> creator, which is
#: given the resource (its properties resolved), the endpoint, the region and the stack's name
#: and returns the gap's note.
API_CREATORS: Mapping[str, Callable[[ApiResource, str, str, str], str]] = {
    "AWS::SNS::TopicPolicy": _create_topic_policy,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::CloudWatch::Alarm": _create_alarm,
}


def plan_api_resource(
    number: int,
    logical_id: str,
    resource: Mapping[str, Any],
    properties: Any,
    outputs: dict[str, Any],
) -> ApiResource:
    """An API equivalent for a removed resource whose ``properties`` still hold intrinsics moto
    must resolve: each becomes a stack output (with the resource's condition) read back later,
    and one more output says whether the resource's condition let it exist."""
    api = ApiResource(logical_id, resource["Type"], properties)
    api.present_key = f"LfvLocal{number}Present"
    outputs[api.present_key] = {"Value": "present"}
    for index, path in enumerate(intrinsic_paths(properties, [])):
        key = f"LfvLocal{number}Value{index}"
        outputs[key] = {"Value": _get(properties, path)}
        api.deferred[key] = path
    condition = resource.get("Condition")
    if condition:
        for key in (api.present_key, *api.deferred):
            outputs[key]["Condition"] = condition
    return api


def create_api_resource(
    api: ApiResource, stack_outputs: Mapping[str, str], endpoint: str, region: str, stack: str
) -> Gap:
    """Create ``api`` through its service's API with the values moto resolved; its gap."""
    if api.present_key not in stack_outputs:
        return Gap(api.logical_id, api.resource_type, "condition-false", "condition is false")
    for key, path in api.deferred.items():
        _set(api.properties, path, stack_outputs[key])
    try:
        note = API_CREATORS[api.resource_type](api, endpoint, region, stack)
    except Exception as error:
        raise StackDeployError(
            f"{api.logical_id} ({api.resource_type}): the API equivalent failed: {error}"
        ) from error
    return Gap(api.logical_id, api.resource_type, "api", note)


#: Types whose ``Ref`` moto answers with an object's repr: the property that holds the name.
_REF_IS_PROPERTY: Mapping[str, str] = {
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Archive": "ArchiveName",
}


def refs_moto_gets_wrong(cfn: dict[str, Any]) -> dict[str, Any]:
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


def work_around_moto(kept: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Same meaning, in the form moto's CloudFormation parses."""
    for logical_id, resource in kept.items():
        props = resource.get("Properties", {})
        # moto reads an archive's EventPattern only as a JSON string (CloudFormation takes both).
        if resource["Type"] == "AWS::Events::Archive" and isinstance(
            props.get("EventPattern"), dict
        ):
            pattern = resolve_static(props["EventPattern"], parameters)
            if list(intrinsic_paths(pattern, [])):
                raise StackDeployError(
                    f"{logical_id}.EventPattern: only parameters may be referenced locally"
                )
            props["EventPattern"] = json.dumps(pattern)
        # moto keeps a key policy given as an object and then fails to read it back.
        if resource["Type"] == "AWS::KMS::Key" and isinstance(props.get("KeyPolicy"), dict):
            policy = resolve_static(props["KeyPolicy"], parameters)
            if list(intrinsic_paths(policy, [])):
                raise StackDeployError(
                    f"{logical_id}.KeyPolicy: only parameters may be referenced locally"
                )
            props["KeyPolicy"] = json.dumps(policy)


def resolve_mappings(template: dict[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
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
                return static_value(value, parameters, mappings, where="Fn::FindInMap")
            except StackDeployError:
                pass
        return {key: walk(item) for key, item in value.items()}

    outputs = walk(template.get("Outputs", {}))
    for output in outputs.values():
        # An output looked up to a number (an alarm's Period) must still be a string.
        if isinstance(output.get("Value"), int | float):
            output["Value"] = str(output["Value"])
    return {**template, "Resources": walk(template["Resources"]), "Outputs": outputs}


def apply_ignored_settings(
    kept: Mapping[str, Any],
    stack_outputs: Mapping[str, str],
    endpoint: str,
    region: str,
    stack_name: str,
) -> list[Gap]:
    """Apply the table settings moto's CloudFormation ignores (TTL, point-in-time recovery)."""
    gaps: list[Gap] = []
    cloudformation = client("cloudformation", endpoint, region)
    physical = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        if item.get("PhysicalResourceId")
    }
    dynamodb = client("dynamodb", endpoint, region)
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
