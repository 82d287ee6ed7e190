"""The SNS notification for a change: per-protocol bodies and filterable attributes.

Pure: no boto3, no ``os``.  The bodies are built from the event ``detail`` (``build_detail``), so
every channel says the same thing:

- ``default``: an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom
  notification, so a Slack or Teams channel subscribed to the topic shows a formatted message;
- ``email``: readable plain text;
- ``sqs`` and ``lambda``: the event ``detail`` JSON itself (not wrapped);
- ``sms``: the subject.  ``http``/``https`` (Amazon Q's own subscription) and ``email-json`` get
  ``default``.
"""

from __future__ import annotations

from typing import Any

from lfv_monitor.domain.events import (
    DETAIL_TYPE,
    build_detail,
    dumps,
    subject_for,
)
from lfv_monitor.domain.models import FAILED, SUCCEEDED, Change

#: How much of a status message the chat and the email show (they link to the history).
CHAT_MESSAGE_MAX_BYTES = 1000
#: SNS attribute values must not be empty: a missing status is sent as this.
NONE_ATTRIBUTE = "NONE"

_EMOJI = {FAILED: ":x:", SUCCEEDED: ":white_check_mark:", "REMOVED": ":wastebasket:"}


def history_query(detail: dict[str, Any]) -> str:
    """How a person reads the job's full history: the CLI's ``history`` (access pattern 4), with
    the job's account and region when the event names them (the CLI tells whether they are the
    stack's own, whose keys are the single-account version's, or another target's)."""
    command = (
        f"lfv-monitor history --table <TABLE_NAME> --project {detail['projectName']} "
        f"--job {detail['jobName']}"
    )
    if detail.get("account") and detail.get("region"):
        command += f" --job-account {detail['account']} --job-region {detail['region']}"
    return command


def where(detail: dict[str, Any]) -> str:
    """``account <id>, region <name>`` of the job (``unknown`` for what the event lacks)."""
    return (
        f"account {detail.get('account') or 'unknown'}, region {detail.get('region') or 'unknown'}"
    )


def _code(value: str) -> str:
    """Inline code for chat markdown, without backticks that would end it."""
    return "`" + value.replace("`", "'") + "`"


def _block(value: str) -> str:
    """A code block with at most ``CHAT_MESSAGE_MAX_BYTES`` of ``value``."""
    text = value
    if len(value.encode("utf-8")) > CHAT_MESSAGE_MAX_BYTES:
        text = value.encode("utf-8")[:CHAT_MESSAGE_MAX_BYTES].decode("utf-8", "ignore")
        text += "… [shortened here; the email, the event and the history have more]"
    return "```\n" + text.replace("```", "'''") + "\n```"


def _was(detail: dict[str, Any]) -> str:
    previous = detail["previousStatus"]
    return f" (was {previous})" if previous else ""


def chat_notification(detail: dict[str, Any], subject: str) -> dict[str, Any]:
    """Amazon Q Developer in chat applications custom notification (version 1.0)."""
    project, job, status = detail["projectName"], detail["jobName"], detail["status"]
    lines = [
        f"*Account:* {_code(detail.get('account') or 'unknown')}  "
        f"*region:* {_code(detail.get('region') or 'unknown')}",
        f"*Project:* {_code(project)}",
        f"*Job:* {_code(job)}"
        + (f"  *model version:* {detail['modelVersion']}" if detail["modelVersion"] else ""),
        f"*Status:* {status or 'unknown'}{_was(detail)}",
        f"*Change:* {detail['changeType']}  *observed:* {detail['observedAt']}",
    ]
    if detail["skippedStates"]:
        lines.append(f"*Skipped states:* {', '.join(detail['skippedStates'])}")
    if detail["statusMessage"]:
        lines.append("*Status message:*\n" + _block(detail["statusMessage"]))
    output = detail["greengrass"]["output"] or {}
    if output.get("componentName"):
        lines.append(
            f"*Greengrass component:* {_code(str(output['componentName']))} "
            f"{output.get('componentVersion') or ''}".rstrip()
        )
    next_steps = [f"Full history: {_code(history_query(detail))}"]
    if status == FAILED:
        next_steps.insert(0, "Read the status message, fix the job's input and start a new job")
    related = [
        str(arn)
        for arn in (detail["projectArn"], output.get("componentVersionArn"))
        if isinstance(arn, str) and arn
    ]
    emoji = _EMOJI.get(status or "", ":information_source:")
    return {
        "version": "1.0",
        "source": "custom",
        "id": detail["eventId"],
        "content": {
            "textType": "client-markdown",
            "title": f"{emoji} {subject}",
            "description": "\n".join(lines),
            "nextSteps": next_steps,
            "keywords": [
                k for k in (status, detail["changeType"], project, job, detail.get("account")) if k
            ],
        },
        "metadata": {
            "threadId": "/".join(
                str(p) for p in (detail.get("account"), detail.get("region"), project, job) if p
            ),
            "summary": subject,
            "eventType": DETAIL_TYPE,
            "relatedResources": related,
            "additionalContext": {
                "eventId": detail["eventId"],
                "account": detail.get("account") or NONE_ATTRIBUTE,
                "region": detail.get("region") or NONE_ATTRIBUTE,
                "changeType": detail["changeType"],
                "status": status or NONE_ATTRIBUTE,
                "previousStatus": detail["previousStatus"] or NONE_ATTRIBUTE,
                "version": str(detail["version"]),
            },
        },
    }


def email_text(detail: dict[str, Any], subject: str) -> str:
    """Plain text for email subscribers: what happened, when, before, message, component."""
    project, job = detail["projectName"], detail["jobName"]
    rows = [
        ("Account", detail.get("account") or "-"),
        ("Region", detail.get("region") or "-"),
        ("Project", project + (f" ({detail['projectArn']})" if detail["projectArn"] else "")),
        ("Job", job),
        ("Model version", detail["modelVersion"] or "-"),
        ("Status", detail["status"] or "-"),
        ("Previous status", detail["previousStatus"] or "- (first seen)"),
        ("Change", detail["changeType"]),
        ("Skipped states", ", ".join(detail["skippedStates"]) or "-"),
        ("Observed at", detail["observedAt"]),
        ("Last updated", detail["lastUpdatedTimestamp"] or "-"),
        ("Created", detail["creationTimestamp"] or "-"),
    ]
    output = detail["greengrass"]["output"] or {}
    configuration = detail["greengrass"]["configuration"] or {}
    component = output or configuration
    if component:
        rows.append(
            (
                "Greengrass component",
                " ".join(
                    str(v)
                    for v in (
                        component.get("componentName"),
                        component.get("componentVersion"),
                        output.get("componentVersionArn"),
                    )
                    if v
                )
                or "-",
            )
        )
    rows.append(("Event id", detail["eventId"]))
    width = max(len(name) for name, _ in rows) + 2
    parts = [subject, "", *(f"{name + ':':<{width}}{value}" for name, value in rows), ""]
    parts += ["Status message:", _indent(detail["statusMessage"]), ""]
    parts += ["Previous status message:", _indent(detail["previousStatusMessage"]), ""]
    if detail["truncated"]:
        parts += [
            "Some values were shortened to fit the notification: "
            + ", ".join(detail["truncatedFields"])
            + ". The full text is in the history.",
            "",
        ]
    parts += [
        "The job's full history (every recorded change, full messages):",
        "  " + history_query(detail),
        "",
        "-- lfv-monitor",
    ]
    return "\n".join(parts)


def _indent(value: str | None) -> str:
    if not value:
        return "  (none)"
    return "\n".join("  " + line for line in value.splitlines() or [""])


def message_attributes(detail: dict[str, Any]) -> dict[str, dict[str, str]]:
    """SNS message attributes to filter on; every value a non-empty String."""
    values = {
        "account": detail.get("account"),
        "region": detail.get("region"),
        "project": detail["projectName"],
        "job": detail["jobName"],
        "status": detail["status"],
        "previous_status": detail["previousStatus"],
        "change_type": detail["changeType"],
    }
    return {
        name: {"DataType": "String", "StringValue": value or NONE_ATTRIBUTE}
        for name, value in values.items()
    }


def sns_message(change: Change) -> tuple[str, str, dict[str, dict[str, str]]]:
    """(subject, ``MessageStructure=json`` message, attributes) for one change."""
    detail = build_detail(change)
    subject = subject_for(change)
    body = dumps(detail)
    message = {
        "default": dumps(chat_notification(detail, subject)),
        "email": email_text(detail, subject),
        "sqs": body,
        "lambda": body,
        "sms": subject,
    }
    return subject, dumps(message), message_attributes(detail)
