"""Deploy ``template.yaml`` to moto's CloudFormation, over HTTP, with nothing from AWS.

Steps:

1. Read the template and resolve what ``AWS::LanguageExtensions`` would, then transform it with
   aws-sam-translator, offline (``local/template.py``).
2. Split the resources: the types moto's CloudFormation can create stay in the stack; the others
   are taken out, references to them replaced by stand-ins (``local/moto_gaps.py``).
3. Create the stack in moto and wait for it.
4. For each removed resource: create its equivalent through the service API (SNS topic policy
   and subscriptions, CloudWatch alarms), or record it as not emulated (the Lambda function and
   its invoke config, the Scheduler schedule: the poll cycle runs in-process instead; the
   nested stack with the EventBridge schema registry; the Slack channel). Settings moto's
   CloudFormation ignores are applied through the API too (the table's TTL and point-in-time
   recovery).

Everything done differently from AWS is listed in ``StackOutputs.gaps``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lfv_workbench.local.moto_gaps import (
    API_CREATORS,
    NOT_EMULATED,
    ApiResource,
    Gap,
    apply_ignored_settings,
    client,
    create_api_resource,
    moto_resource_types,
    plan_api_resource,
    refs_moto_gets_wrong,
    resolve_mappings,
    resolve_static,
    stand_in,
    substitute,
    work_around_moto,
)
from lfv_workbench.local.template import (
    StackDeployError,
    load_template,
    parameter_values,
    pseudo_parameters,
    resolve_language_extensions,
    sam_transform,
    static_value,
)

__all__ = ["Gap", "StackDeployError", "StackOutputs", "deploy_stack", "function_environment"]


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
    names = {**stack.parameters, **pseudo_parameters(stack.region, stack.stack_name)}
    mappings: Mapping[str, Any] = stack.template.get("Mappings", {})
    variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    environment: dict[str, str] = {}
    for name, value in variables.items():
        where = f"{logical_id} environment variable {name}"
        if isinstance(value, dict) and expression(value) in by_expression:
            environment[name] = by_expression[expression(value)]
            continue
        resolved = static_value(
            value, names, mappings, where=where, conditions=stack.template.get("Conditions", {})
        )
        if isinstance(resolved, dict | list):
            raise StackDeployError(
                f"{where}: {json.dumps(value)} names no stack output, parameter or mapping"
            )
        environment[name] = str(resolved)
    return environment


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
    values = parameter_values(sam_template, parameters)
    transformed = sam_transform(sam_template, parameters, region=region)
    split = _split(copy.deepcopy(transformed), stack_name=stack_name, region=region)
    resolvable = {**values, **pseudo_parameters(region, stack_name)}
    work_around_moto(split.kept, resolvable)
    gaps, api_resources = _plan_removed(split, resolvable)

    moto_template = {**split.cfn, "Resources": split.kept, "Outputs": split.outputs}
    moto_template.pop("Transform", None)
    moto_template = resolve_mappings(moto_template, resolvable)
    stack_outputs = _create_stack(aws_endpoint, region, stack_name, moto_template, values)

    gaps.extend(
        create_api_resource(api, stack_outputs, aws_endpoint, region, stack_name)
        for api in api_resources
    )
    gaps.extend(apply_ignored_settings(split.kept, stack_outputs, aws_endpoint, region, stack_name))
    public = {key: value for key, value in stack_outputs.items() if not key.startswith("LfvLocal")}
    stack = _outputs(
        public, tuple(gaps), stack_name=stack_name, region=region, endpoint=aws_endpoint
    )
    return replace(stack, template=transformed, parameters=values)


@dataclass(frozen=True)
class _Split:
    """The transformed template split into what moto creates and what is taken out."""

    cfn: dict[str, Any]
    kept: dict[str, Any]
    removed: dict[str, Any]
    stand_ins: Mapping[str, tuple[str, Callable[[str], str]]]
    outputs: dict[str, Any]


def _split(cfn: dict[str, Any], *, stack_name: str, region: str) -> _Split:
    cfn = refs_moto_gets_wrong(cfn)
    supported = moto_resource_types()
    resources: dict[str, Any] = cfn["Resources"]
    removed = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] in NOT_EMULATED or resource["Type"] not in supported
    }
    stand_ins = {
        logical_id: stand_in(logical_id, r["Type"], stack_name=stack_name, region=region)
        for logical_id, r in removed.items()
    }
    kept = {
        logical_id: substitute(resource, stand_ins)
        for logical_id, resource in resources.items()
        if logical_id not in removed
    }
    for resource in kept.values():
        depends = resource.get("DependsOn")
        if depends:
            names = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [name for name in names if name not in removed]
    outputs = substitute(cfn.get("Outputs", {}), stand_ins)
    return _Split(cfn, kept, removed, stand_ins, outputs)


def _plan_removed(
    split: _Split, resolvable: Mapping[str, Any]
) -> tuple[list[Gap], list[ApiResource]]:
    """The gaps of the removed resources not made at all, and the API equivalents of the rest
    (which add their outputs to ``split.outputs``)."""
    gaps: list[Gap] = []
    api_resources: list[ApiResource] = []
    for number, (logical_id, resource) in enumerate(split.removed.items()):
        resource_type = resource["Type"]
        if resource_type not in API_CREATORS:
            note = NOT_EMULATED.get(
                resource_type, "not emulated: moto's CloudFormation has no model for this type"
            )
            gaps.append(Gap(logical_id, resource_type, "not-emulated", note))
            continue
        properties = resolve_static(
            substitute(resource.get("Properties", {}), split.stand_ins), resolvable
        )
        api_resources.append(
            plan_api_resource(number, logical_id, resource, properties, split.outputs)
        )
    return gaps, api_resources


def _create_stack(
    endpoint: str,
    region: str,
    stack_name: str,
    template: dict[str, Any],
    values: Mapping[str, Any],
) -> dict[str, str]:
    cloudformation = client("cloudformation", endpoint, region)
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
