"""The demo's email and chat lanes: what the stack's own filters would deliver to a person.

The topic carries every change; a person does not get them all. template.yaml filters each lane:

- **email**: the email subscription's filter policy on the notification's ``status`` message
  attribute, from the ``NotifyStatuses`` parameter;
- **chat** (Slack): a rule on the monitor's bus matching ``detail.status``, from the
  ``ChatStatuses`` parameter.

The statuses are read from the template the local stack deployed (its defaults, or the values
the stack was given), never restated here, so the demo shows what a deployed stack would send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The template parameters the lanes follow.
EMAIL_PARAMETER = "NotifyStatuses"
CHAT_PARAMETER = "ChatStatuses"


@dataclass(frozen=True)
class Lanes:
    """The statuses each lane delivers."""

    email: tuple[str, ...]
    chat: tuple[str, ...]

    def to_email(self, notification: Any) -> bool:
        """Would the email subscription's filter policy pass this notification?  (SNS matches
        the ``status`` message attribute exactly against the policy's list.)"""
        return notification.attributes.get("status") in self.email

    def to_chat(self, notification: Any) -> bool:
        """Would the chat rule pass the change's event?  (It matches ``detail.status``.)"""
        return notification.detail.get("status") in self.chat

    def email_filter(self) -> str:
        return (
            f"email: the subscription's filter policy passes status {_listed(self.email)} "
            f"({EMAIL_PARAMETER} in template.yaml)"
        )

    def chat_filter(self) -> str:
        return (
            f"slack: the chat rule on the bus passes detail.status {_listed(self.chat)} "
            f"({CHAT_PARAMETER} in template.yaml)"
        )


def _listed(statuses: tuple[str, ...]) -> str:
    return ", ".join(statuses) if statuses else "(none)"


def lanes_from_template(template: Path, parameters: Mapping[str, str] | None = None) -> Lanes:
    """The lanes of a stack deployed from ``template`` with ``parameters`` (defaults for the
    rest), through the local stack's own template reading."""
    from lfv_workbench.local.template import load_template, parameter_values

    values = parameter_values(load_template(template), parameters or {})
    return Lanes(
        email=tuple(_statuses(values[EMAIL_PARAMETER])),
        chat=tuple(_statuses(values[CHAT_PARAMETER])),
    )


def stack_lanes(stack: Any) -> Lanes:
    """The lanes of a running ``LocalStack`` (its template and parameters)."""
    from lfv_workbench.local.up import default_template_path

    return lanes_from_template(stack.template or default_template_path(), stack.parameters)


def _statuses(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]
