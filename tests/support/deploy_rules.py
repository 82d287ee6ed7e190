"""Rules AWS enforces when it deploys or runs the template, which cfn-lint, `sam validate`,
checkov and moto do not check. Each rule walks the template generically (every log group, every
rule target, every alarm, ...) and returns the violations it finds; docs/deploy-rules.md lists
the rules with the error AWS gives for each.

The template is evaluated as CloudFormation would for one set of parameter values: conditions
decide which resources exist, ``Fn::If``/``Fn::FindInMap``/``Fn::Sub``/``Ref`` are resolved with
sample pseudo parameters, and references to resources become ``ref(Id)``/``getatt(Id.Attr)``.
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
#: The member accounts' role (issue 15): the same rules apply where they can.
MEMBER_ROLE_PATH = ROOT / "member-role.yaml"

PSEUDO: Mapping[str, str] = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "lfv-monitor",
    "AWS::URLSuffix": "amazonaws.com",
}
ACCOUNT = PSEUDO["AWS::AccountId"]
REGION = PSEUDO["AWS::Region"]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

#: Rule id -> (what it checks, the error AWS gives when it is broken). docs/deploy-rules.md.
RULES: Mapping[str, tuple[str, str]] = {
    "log-group-key": (
        "a log group encrypted with a key of the template is allowed by that key's policy for "
        "logs.<region>.amazonaws.com with kms:EncryptionContext:aws:logs:arn matching its ARN",
        "CREATE_FAILED AWS::Logs::LogGroup: The specified KMS key does not exist or is not "
        "allowed to be used with Arn 'arn:aws:logs:<region>:<account>:log-group:<name>' "
        "(Service: CloudWatchLogs, Status Code: 400)",
    ),
    "event-bus-key": (
        "an event bus encrypted with a key of the template is allowed by that key's policy for "
        "events.amazonaws.com (GenerateDataKey, Decrypt)",
        "CREATE_FAILED AWS::Events::EventBus: EventBridge was not able to access the KMS key "
        "(AccessDeniedException / KMS key is not accessible)",
    ),
    "delivery-key": (
        "a topic or queue encrypted with a key of the template, that an AWS service delivers to "
        "(EventBridge rule target or DLQ, CloudWatch alarm action), is allowed by that key's "
        "policy for that service (GenerateDataKey, Decrypt)",
        "no deploy error; each delivery fails: the alarm history says 'Failed to execute action "
        "arn:aws:sns:...: CloudWatch Alarms does not have authorization to access the SNS topic "
        "encryption key'; a rule's FailedInvocations / InvocationsFailedToBeSentToDlq metric rises",
    ),
    "delivery-policy": (
        "a topic, queue, log group or function an AWS service delivers to (EventBridge rule "
        "target or DLQ, CloudWatch alarm action) has the resource policy (for a log group: "
        "CloudWatch Logs' resource policy) or permission that lets that service "
        "deliver, existing whenever the delivery exists, and no Deny statement that blocks it; "
        "one policy resource per topic or queue (a second one replaces the first)",
        "no deploy error; each delivery fails: a rule's FailedInvocations (targets) or "
        "InvocationsFailedToBeSentToDlq (DLQ) metric rises, an alarm's history says 'Failed to "
        "execute action ... not authorized to perform: SNS:Publish'",
    ),
    "delivery-role": (
        "a queue a role-based sender delivers to (an EventBridge Scheduler schedule's DLQ, a "
        "Lambda on-failure destination) is writable by that sender's role (sqs:SendMessage)",
        "no deploy error; the failed invocation record is lost: Scheduler's "
        "InvocationsFailedToBeSentToDeadLetterCount rises, Lambda's DestinationDeliveryFailures "
        "rises",
    ),
    "account-wide": (
        "with the default parameters nothing depends on or changes account-wide settings: no "
        "reserved Lambda concurrency, no API Gateway stage logging (needs the account's "
        "CloudWatch Logs role), no AWS::ApiGateway::Account (one per account and region)",
        "CREATE_FAILED AWS::ApiGateway::Stage: CloudWatch Logs role ARN must be set in account "
        "settings to enable logging; CREATE_FAILED AWS::Lambda::Function: Specified "
        "ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [10]",
    ),
    "alarm-range": (
        "for every allowed value of the parameters an alarm uses: Period is 10, 20, 30 or a "
        "multiple of 60; Period x EvaluationPeriods is at most one day (7 days for periods of "
        "an hour or more; 3 hours for a Metrics Insights query, whose Period is a multiple of "
        "60); DatapointsToAlarm <= EvaluationPeriods",
        "CREATE_FAILED AWS::CloudWatch::Alarm: Metrics cannot be checked across more than a day "
        "(EvaluationPeriods * Period must be <= 86400) / MetricsInsights monitors cannot be "
        "checked across more than 3 hours / DatapointsToAlarm must be less than or "
        "equal to EvaluationPeriods / Period must be 10, 20, 30 or a multiple of 60",
    ),
}

#: Types that configure the whole account and region rather than a resource of the stack.
ACCOUNT_WIDE_TYPES = frozenset({"AWS::ApiGateway::Account", "AWS::IAM::ServiceLinkedRole"})
#: Actions CloudWatch Logs needs on a log group's key (docs: "Encrypt log data in CloudWatch
#: Logs using AWS KMS").
LOGS_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
DELIVERY_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: The action a service needs on a target, by the target's type.
DELIVERY_ACTION = {"AWS::SNS::Topic": "sns:Publish", "AWS::SQS::Queue": "sqs:SendMessage"}
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass(frozen=True)
class Violation:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain JSON-like data (short-form tags in their long form)."""
    from cfnlint.decode import decode_str

    decoded, matches = decode_str(path.read_text())
    assert not matches, matches
    assert decoded is not None
    loaded: dict[str, Any] = json.loads(json.dumps(decoded))
    return loaded


class Evaluated:
    """The template as CloudFormation sees it for one set of parameter values."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None):
        self.template = template
        declared: Mapping[str, Any] = template.get("Parameters", {})
        given = dict(parameters or {})
        unknown = set(given) - set(declared)
        assert not unknown, f"unknown parameters {unknown}"
        self.parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            raw = str(given.get(name, spec.get("Default", "")))
            is_list = spec.get("Type") == "CommaDelimitedList"
            self.parameters[name] = raw.split(",") if is_list else raw
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.conditions: Mapping[str, Any] = template.get("Conditions", {})
        self.mappings: Mapping[str, Any] = template.get("Mappings", {})

    # -- conditions and values
    def condition(self, name: str) -> bool:
        def evaluate(node: Any) -> Any:
            if isinstance(node, dict) and len(node) == 1:
                ((function, argument),) = node.items()
                if function == "Condition":
                    return evaluate(self.conditions[argument])
                if function == "Fn::Equals":
                    left, right = (self.value(a) for a in argument)
                    return _text(left) == _text(right)
                if function == "Fn::Not":
                    return not evaluate(argument[0])
                if function == "Fn::And":
                    return all(evaluate(a) for a in argument)
                if function == "Fn::Or":
                    return any(evaluate(a) for a in argument)
                return self.value(node)
            return node

        return bool(evaluate(self.conditions[name]))

    def exists(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def value(self, node: Any) -> Any:
        """``node`` resolved; references to resources become ref(Id)/getatt(Id.Attr)."""
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((function, argument),) = node.items()
            intrinsic = self._intrinsics().get(function)
            if intrinsic is not None:
                return intrinsic(argument)
        resolved = {key: self.value(item) for key, item in node.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        """The intrinsic functions the rules evaluate, by name."""
        return {
            "Ref": self._ref,
            "Fn::GetAtt": lambda a: f"getatt({a if isinstance(a, str) else '.'.join(a)})",
            "Fn::If": lambda a: self.value(a[1] if self.condition(a[0]) else a[2]),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: a[0].join(_text(item) for item in self.value(a[1])),
            "Fn::Split": lambda a: _text(self.value(a[1])).split(a[0]),
            "Fn::Select": lambda a: self.value(a[1])[int(_text(self.value(a[0])))],
        }

    def _find_in_map(self, argument: Any) -> Any:
        name, top, second = (_text(self.value(part)) for part in argument[:3])
        return self.mappings[name][top][second]

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO:
            return PSEUDO[name]
        return f"ref({name})"

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(self.value(variables[name]))
            if "." in name and name.split(".")[0] in self.resources:
                return f"getatt({name})"
            return _text(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # -- resources
    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, resolved properties) of every existing resource of these types."""
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types and self.exists(logical_id):
                yield logical_id, self.value(resource.get("Properties", {}))

    def target(self, value: Any) -> str | None:
        """The logical id a resolved value refers to (ref(X), getatt(X.Arn), ...)."""
        if isinstance(value, str):
            match = re.fullmatch(r"(?:ref|getatt)\(([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\)", value)
            if match and match[1] in self.resources:
                return match[1]
        return None

    def type_of(self, logical_id: str | None) -> str | None:
        return self.resources[logical_id]["Type"] if logical_id in self.resources else None

    def key_of(self, value: Any) -> str | None:
        """The template's AWS::KMS::Key that ``value`` names (directly or through an alias)."""
        logical_id = self.target(value)
        kind = self.type_of(logical_id)
        if kind == "AWS::KMS::Key":
            return logical_id
        if kind == "AWS::KMS::Alias" and logical_id is not None:
            alias = self.value(self.resources[logical_id]["Properties"])
            return self.key_of(alias.get("TargetKeyId"))
        return None

    def key_statements(self, key: str) -> list[dict[str, Any]]:
        policy = self.value(self.resources[key]["Properties"].get("KeyPolicy", {}))
        if isinstance(policy, str):
            policy = json.loads(policy)
        return list(_as_list(policy.get("Statement", [])))

    def arn(self, logical_id: str) -> str:
        """A resource's ARN where the rules need it as text (log groups), else getatt()."""
        resource = self.resources[logical_id]
        props = self.value(resource.get("Properties", {}))
        if resource["Type"] == "AWS::Logs::LogGroup":
            name = props.get("LogGroupName", f"{PSEUDO['AWS::StackName']}-{logical_id}-GENERATED")
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        return f"getatt({logical_id}.Arn)"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _services(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        services = _as_list(principal.get("Service", []))
        if principal.get("AWS") == "*":
            services.append("*")
        return [str(s) for s in services]
    return []


def _condition_holds(condition: Mapping[str, Any], known: Mapping[str, str]) -> bool:
    """Whether a statement's Condition holds for a request whose context is ``known`` (keys
    missing from ``known`` are absent from the request). aws:SourceAccount and aws:SourceArn
    are taken as the stack's own (the service acts for this stack's resources)."""
    return all(
        _test_holds(operator, key, [str(v) for v in _as_list(expected)], known)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    )


def _request_value(key: str, known: Mapping[str, str]) -> str | None:
    """The request's value for a condition key; None where the request has none."""
    if key in known:
        return known[key]
    return {"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "true"}.get(key)


def _test_holds(operator: str, key: str, values: list[str], known: Mapping[str, str]) -> bool:
    base = operator.replace("IfExists", "")
    negated = base.startswith(("StringNot", "ArnNot"))
    if key == "aws:SourceArn" and key not in known:
        # The delivering resource of this stack: matches a condition naming it.
        return True
    actual = _request_value(key, known)
    if actual is None:
        # Absent from the request: a positive test fails, a negated one holds.
        return operator.endswith("IfExists") or negated
    if base == "Bool":
        hit = actual.lower() in (v.lower() for v in values)
    elif base in ("StringLike", "ArnLike", "StringNotLike", "ArnNotLike"):
        hit = any(fnmatch.fnmatchcase(actual, v) for v in values)
    else:
        hit = actual in values
    return hit != negated


def allows(
    statements: list[dict[str, Any]],
    service: str,
    actions: tuple[str, ...] | list[str],
    context: Mapping[str, str] | None = None,
) -> list[str]:
    """The actions of ``actions`` that ``service`` is not allowed (or is denied) with
    ``context``: Allow statements naming the service, minus Deny statements that apply."""
    known = dict(context or {})
    missing = []
    for action in actions:
        allowed = any(
            s.get("Effect") == "Allow"
            and (service in _services(s))
            and any(_action_matches(a, action) for a in _as_list(s.get("Action", [])))
            and _condition_holds(s.get("Condition", {}), known)
            for s in statements
        )
        denied = any(
            s.get("Effect") == "Deny"
            and ({service, "*"} & set(_services(s)))
            and any(_action_matches(a, action) for a in _as_list(s.get("Action", [])))
            and _condition_holds(s.get("Condition", {}), known)
            for s in statements
        )
        if not allowed or denied:
            missing.append(f"{action}{' (denied)' if denied else ''}")
    return missing


# ------------------------------------------------------------------------------------ rules


def log_group_keys(t: Evaluated) -> list[Violation]:
    out = []
    service = f"logs.{REGION}.amazonaws.com"
    for name, props in t.of_type("AWS::Logs::LogGroup"):
        key = t.key_of(props.get("KmsKeyId"))
        if key is None:
            continue
        arn = t.arn(name)
        context = {"kms:EncryptionContext:aws:logs:arn": arn}
        missing = allows(t.key_statements(key), service, LOGS_ACTIONS, context)
        if missing:
            out.append(
                Violation(
                    "log-group-key",
                    name,
                    f"{key}'s policy does not let {service} use it for {arn}: {missing}",
                )
            )
    return out


def event_bus_keys(t: Evaluated) -> list[Violation]:
    out = []
    for name, props in t.of_type("AWS::Events::EventBus"):
        key = t.key_of(props.get("KmsKeyIdentifier"))
        if key is None:
            continue
        context = {"kms:EncryptionContext:aws:events:event-bus:arn": t.arn(name)}
        missing = allows(
            t.key_statements(key), "events.amazonaws.com", DELIVERY_KEY_ACTIONS, context
        )
        if missing:
            out.append(
                Violation(
                    "event-bus-key",
                    name,
                    f"{key}'s policy does not let events.amazonaws.com use it: {missing}",
                )
            )
    return out


def deliveries(t: Evaluated) -> Iterator[tuple[str, str, str]]:
    """(service principal, source, target logical id) for every delivery a service makes."""
    for rule, props in t.of_type("AWS::Events::Rule"):
        for target in props.get("Targets", []):
            for value in (target.get("Arn"), target.get("DeadLetterConfig", {}).get("Arn")):
                logical_id = t.target(value)
                if logical_id is not None:
                    yield "events.amazonaws.com", rule, logical_id
    for alarm, props in t.of_type("AWS::CloudWatch::Alarm"):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for value in props.get(key, []):
                logical_id = t.target(value)
                if logical_id is not None:
                    yield "cloudwatch.amazonaws.com", alarm, logical_id


def _encryption_key(t: Evaluated, logical_id: str) -> str | None:
    props = t.value(t.resources[logical_id].get("Properties", {}))
    return t.key_of(props.get("KmsMasterKeyId"))


def delivery_keys(t: Evaluated) -> list[Violation]:
    out = []
    for service, source, target in sorted(set(deliveries(t))):
        if t.type_of(target) not in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
            continue
        key = _encryption_key(t, target)
        if key is None:
            continue
        missing = allows(t.key_statements(key), service, DELIVERY_KEY_ACTIONS)
        if missing:
            out.append(
                Violation(
                    "delivery-key",
                    f"{source} -> {target}",
                    f"{target} is encrypted with {key}, whose policy does not let {service} "
                    f"use it: {missing}",
                )
            )
    return out


def _policy_owners(t: Evaluated, target: str) -> list[str]:
    kind = t.type_of(target)
    policy_type, list_key = {
        "AWS::SNS::Topic": ("AWS::SNS::TopicPolicy", "Topics"),
        "AWS::SQS::Queue": ("AWS::SQS::QueuePolicy", "Queues"),
    }[str(kind)]
    return [
        name
        for name, props in t.of_type(policy_type)
        if target in {t.target(v) for v in props.get(list_key, [])}
    ]


def _policies_for(t: Evaluated, target: str) -> list[dict[str, Any]] | None:
    """The statements of the resource policies attached to a topic or queue (None: none)."""
    owners = _policy_owners(t, target)
    if not owners:
        return None
    documents = [t.value(t.resources[name]["Properties"])["PolicyDocument"] for name in owners]
    return [s for document in documents for s in _as_list(document["Statement"])]


def delivery_policies(t: Evaluated) -> list[Violation]:
    out = []
    # A topic or queue has one policy: a second policy resource silently replaces the first.
    for target, _ in t.of_type("AWS::SNS::Topic", "AWS::SQS::Queue"):
        owners = _policy_owners(t, target)
        if len(owners) > 1:
            out.append(
                Violation(
                    "delivery-policy",
                    target,
                    f"{len(owners)} policies ({', '.join(owners)}): the last applied replaces "
                    "the others",
                )
            )
    for service, source, target in sorted(set(deliveries(t))):
        kind = t.type_of(target)
        where = f"{source} -> {target}"
        if kind in FUNCTION_TYPES:
            permitted = any(
                t.target(props.get("FunctionName")) == target
                and props.get("Principal") == service
                and props.get("Action") in ("lambda:InvokeFunction", "lambda:*")
                for _, props in t.of_type("AWS::Lambda::Permission")
            )
            if not permitted:
                out.append(
                    Violation(
                        "delivery-policy",
                        where,
                        f"no AWS::Lambda::Permission lets {service} invoke {target}",
                    )
                )
            continue
        if kind == "AWS::Logs::LogGroup":
            out += _log_group_delivery(t, service, source, target)
            continue
        if kind not in DELIVERY_ACTION:
            continue
        statements = _policies_for(t, target)
        if statements is None and kind == "AWS::SNS::Topic" and service.startswith("cloudwatch"):
            # A topic without a policy keeps SNS's default one, which lets the account's
            # CloudWatch alarms publish.
            continue
        missing = allows(statements or [], service, [DELIVERY_ACTION[kind]])
        if missing:
            has = "no resource policy" if statements is None else "a policy that does not allow"
            out.append(
                Violation(
                    "delivery-policy",
                    where,
                    f"{target} has {has} {service} {missing} (whenever {source} exists)",
                )
            )
    return out


def _log_group_delivery(t: Evaluated, service: str, source: str, target: str) -> list[Violation]:
    """A log group as a rule target: CloudWatch Logs' resource policy (account-wide, at most
    10 a region) must let EventBridge write to it."""
    arn = t.arn(target)
    statements = []
    for _, props in t.of_type("AWS::Logs::ResourcePolicy"):
        document = props.get("PolicyDocument", "{}")
        document = json.loads(document) if isinstance(document, str) else document
        statements += [
            s
            for s in _as_list(document.get("Statement", []))
            if any(fnmatch.fnmatchcase(f"{arn}:*", str(r)) for r in _as_list(s.get("Resource")))
        ]
    missing = [
        action
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        if allows(statements, service, [action])
        and allows(statements, "delivery.logs.amazonaws.com", [action])
    ]
    if not missing:
        return []
    return [
        Violation(
            "delivery-policy",
            f"{source} -> {target}",
            f"no AWS::Logs::ResourcePolicy lets {service} write to {arn}: {missing}",
        )
    ]


def delivery_roles(transformed: Mapping[str, Any]) -> list[Violation]:
    """On the SAM-transformed template: schedules' DLQs and functions' on-failure queues are
    writable by the sender's role."""
    resources: Mapping[str, Any] = transformed["Resources"]
    senders: list[tuple[str, Any, Any]] = []  # (where, role reference, queue reference)
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Scheduler::Schedule":
            dlq = props.get("Target", {}).get("DeadLetterConfig", {}).get("Arn")
            if dlq is not None:
                senders.append((name, props["Target"].get("RoleArn"), dlq))
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig":
            failure = props.get("DestinationConfig", {}).get("OnFailure", {})
            function = props.get("FunctionName", {}).get("Ref")
            role = resources.get(function, {}).get("Properties", {}).get("Role")
            if failure.get("Destination") is not None and role is not None:
                senders.append((name, role, failure["Destination"]))
    out = []
    for where, role_ref, queue_ref in senders:
        role = _logical(role_ref)
        queue = _logical(queue_ref)
        if (
            role is None
            or queue is None
            or resources.get(queue, {}).get("Type") != ("AWS::SQS::Queue")
        ):
            continue
        statements = [
            s
            for policy in resources[role]["Properties"].get("Policies", [])
            for s in _as_list(policy["PolicyDocument"]["Statement"])
        ]
        granted = any(
            s.get("Effect") == "Allow"
            and any(_action_matches(a, "sqs:SendMessage") for a in _as_list(s.get("Action")))
            and queue in {_logical(r) for r in _as_list(s.get("Resource"))}
            for s in statements
        )
        if not granted:
            out.append(
                Violation(
                    "delivery-role",
                    where,
                    f"role {role} may not sqs:SendMessage to its dead-letter queue {queue}",
                )
            )
    return out


def _logical(reference: Any) -> str | None:
    if isinstance(reference, dict) and len(reference) == 1:
        ((function, argument),) = reference.items()
        if function == "Ref":
            return str(argument)
        if function == "Fn::GetAtt":
            return str(argument[0] if isinstance(argument, list) else argument.split(".")[0])
    return None


def account_wide(t: Evaluated) -> list[Violation]:
    """Run on the default parameters: nothing account-wide is needed or changed."""
    out = []
    shared = t.value(t.template.get("Globals", {}).get("Function", {}))
    for name, props in t.of_type(*FUNCTION_TYPES):
        reserved = props.get(
            "ReservedConcurrentExecutions", shared.get("ReservedConcurrentExecutions")
        )
        if reserved is not None and reserved is not NO_VALUE:
            out.append(
                Violation(
                    "account-wide",
                    name,
                    f"reserves {reserved} units of the account's Lambda concurrency by default",
                )
            )
    for name, props in t.of_type("AWS::Serverless::Api", "AWS::ApiGateway::Stage"):
        logging = []
        if props.get("AccessLogSetting"):
            logging.append("AccessLogSetting")
        for setting in props.get("MethodSettings", []):
            if str(setting.get("LoggingLevel", "OFF")).upper() != "OFF":
                logging.append("MethodSettings.LoggingLevel")
            if str(setting.get("DataTraceEnabled", False)).lower() == "true":
                logging.append("MethodSettings.DataTraceEnabled")
        if logging:
            out.append(
                Violation(
                    "account-wide",
                    name,
                    f"logs to CloudWatch by default ({', '.join(logging)}): needs the account's "
                    "API Gateway CloudWatch Logs role",
                )
            )
    for name, _ in t.of_type(*ACCOUNT_WIDE_TYPES):
        out.append(
            Violation(
                "account-wide",
                name,
                f"{t.type_of(name)} changes an account-wide setting by default "
                "(create it only behind a parameter)",
            )
        )
    return out


def _candidates(spec: Mapping[str, Any]) -> list[str]:
    if "AllowedValues" in spec:
        return [str(v) for v in spec["AllowedValues"]]
    values = {str(spec[k]) for k in ("Default", "MinValue", "MaxValue") if k in spec}
    return sorted(values)


def _parameters_used(node: Any, declared: Mapping[str, Any]) -> set[str]:
    text = json.dumps(node)
    names = set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text))
    names |= set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    return {name for name in names if name in declared}


def alarm_ranges(
    template: Mapping[str, Any], base: Mapping[str, str] | None = None
) -> list[Violation]:
    """Every alarm, for every combination of the values its parameters may take."""
    declared: Mapping[str, Any] = template.get("Parameters", {})
    out: list[Violation] = []
    for name, resource in Evaluated(template, base).resources.items():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        used = sorted(_parameters_used(resource, declared))
        for combination in itertools.product(*(_candidates(declared[p]) for p in used)):
            values = {**(base or {}), **dict(zip(used, combination, strict=True))}
            t = Evaluated(template, values)
            if not t.exists(name):
                continue
            problem = _alarm_problem(t.value(t.resources[name]["Properties"]))
            if problem:
                out.append(Violation("alarm-range", name, f"{problem} with {values}"))
                break
    return out


def _alarm_problem(props: Mapping[str, Any]) -> str | None:
    periods = [props["Period"]] if "Period" in props else []
    periods += [m["MetricStat"]["Period"] for m in props.get("Metrics", []) if "MetricStat" in m]
    evaluations = int(props["EvaluationPeriods"])
    datapoints = int(props.get("DatapointsToAlarm", evaluations))
    if datapoints > evaluations:
        return f"DatapointsToAlarm {datapoints} > EvaluationPeriods {evaluations}"
    insights = any("SELECT " in str(m.get("Expression", "")) for m in props.get("Metrics", []))
    periods += [m["Period"] for m in props.get("Metrics", []) if "Period" in m]
    for raw in periods:
        period = int(raw)
        if period not in (10, 20, 30) and period % 60:
            return f"Period {period} is not 10, 20, 30 or a multiple of 60"
        limit = 86400 if period < 3600 else 7 * 86400
        if insights:
            # Metrics Insights alarms: one-minute data at least, the latest 3 hours only.
            if period % 60:
                return f"Metrics Insights alarm Period {period} is not a multiple of 60"
            limit = 3 * 3600
        if period * evaluations > limit:
            return f"Period {period} x EvaluationPeriods {evaluations} > {limit} s"
    return None


def check(
    template: Mapping[str, Any], parameters: Mapping[str, str] | None = None
) -> list[Violation]:
    """Every rule that evaluates one parameter set (not account-wide, not the role rule)."""
    t = Evaluated(template, parameters)
    return [
        *log_group_keys(t),
        *event_bus_keys(t),
        *delivery_keys(t),
        *delivery_policies(t),
    ]


def sam_transform(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """The CloudFormation SAM makes of ``template``, offline (no AWS call)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = copy.deepcopy(dict(template))
    template["Transform"] = "AWS::Serverless-2016-10-31"
    # Where `sam package` would have put the code (never read).
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://lfv-monitor-code/function.zip"
    for resource in template["Resources"].values():
        # LanguageExtensions' job, and not what this rule is about.
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            if isinstance(resource.get(attribute), dict):
                resource[attribute] = "Delete"
    managed = {
        "AWSLambdaBasicExecutionRole": (
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ),
        "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    values = {**parameters, **PSEUDO}
    translator = Translator(managed, Parser(), boto_session=session)
    result: dict[str, Any] = translator.translate(
        template, values, get_managed_policy_map=lambda: managed
    )
    return result
