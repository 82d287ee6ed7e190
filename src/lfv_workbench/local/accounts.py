"""Several AWS accounts on one moto server: the member roles, STS, and whose key is whose.

moto 5.2.5 keeps every service's state per account. The account of a request is, in order:
``MOTO_ACCOUNT_ID`` (process-wide: never set here), the ``x-moto-account-id`` header, the
account of the request's access key when moto issued it (``moto.iam.models.get_account_id_from``:
the temporary ``ASIA...`` keys its STS hands out for an assumed role belong to the role's
account), else moto's default account ``123456789012`` (``moto.core.responses
.BaseResponse.get_current_account``). A 12-digit access key id is *not* read as an account by
this version. So:

- :func:`create_member_roles` creates the member role in each member account through moto's IAM
  with the ``x-moto-account-id`` header (only this setup does; the monitor never sends it);
- the monitor reaches a member account as it does in AWS: AssumeRole through moto's STS, then
  calls with the temporary keys, which moto maps to the member account;
- the simulator, in the same process, resolves an access key to its account with
  :func:`resolve_account`: moto's own mapping (so the assumed role's keys land in the member's
  simulated account), or a key that is itself a 12-digit account id (handy with the AWS CLI).

moto's AssumeRole succeeds for a role that does not exist ("the role does not need to exist",
its docstring). AWS refuses it with AccessDenied, and that is the failure a missing member role
must show, so :class:`AssumeRoleGuard` (a WSGI middleware in front of moto) answers AssumeRole
for a role missing from its account with STS's AccessDenied (403). Trust policies and their
conditions are not evaluated (moto does not either): a role that exists may be assumed by any
caller.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

import boto3

#: The member role's name (member-role.yaml's default ``RoleName``, the stack's
#: ``MemberRoleName``).
MEMBER_ROLE_NAME = "lfv-monitor-reader"
#: moto's default account: the monitoring account of the local stack.
MONITOR_ACCOUNT = "123456789012"
#: The three read actions the member role allows, exactly.
MEMBER_ROLE_ACTIONS = (
    "lookoutvision:ListProjects",
    "lookoutvision:ListModelPackagingJobs",
    "lookoutvision:DescribeModelPackagingJob",
)
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>[0-9]{12}):role/(?:.*/)?(?P<name>[^/]+)$")
_STS_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/sts/aws4_request")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def member_role_arn(account: str, role_name: str = MEMBER_ROLE_NAME) -> str:
    return f"arn:aws:iam::{account}:role/{role_name}"


def resolve_account(access_key: str) -> str | None:
    """The account of ``access_key``: itself when it is a 12-digit account id, else the one moto
    issued it in (moto's default account for a key it never issued)."""
    if _ACCOUNT.match(access_key):
        return access_key
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def role_exists(account: str, role_name: str) -> bool:
    """Whether moto's IAM in ``account`` holds role ``role_name`` (read in-process)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    return any(role.name == role_name for role in list(backend.roles.values()))


def _access_denied(role_arn: str) -> bytes:
    message = (
        f"User: arn:aws:iam::{MONITOR_ACCOUNT}:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn}"
    )
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{_xml_escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AssumeRoleGuard:
    """WSGI middleware: STS AssumeRole of a role missing from its account is AccessDenied."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.denied: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and _STS_SCOPE.search(
            environ.get("HTTP_AUTHORIZATION", "")
        ):
            body = _read_body(environ)
            role_arn = _assume_role_arn(body)
            if role_arn is not None and not self._role_present(role_arn):
                with self._lock:
                    self.denied.append(role_arn)
                payload = _access_denied(role_arn)
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))],
                )
                return [payload]
        return self.app(environ, start_response)

    @staticmethod
    def _role_present(role_arn: str) -> bool:
        match = _ROLE_ARN.match(role_arn)
        return match is not None and role_exists(match.group("account"), match.group("name"))


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so the application reads it too."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _assume_role_arn(body: bytes) -> str | None:
    """The ``RoleArn`` of an AssumeRole query-protocol body (None for any other action)."""
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    if form.get("Action") != ["AssumeRole"]:
        return None
    return (form.get("RoleArn") or [""])[0]


class LocalAwsServer:
    """moto's server on a thread (as ``moto.server.ThreadedMotoServer``), behind
    :class:`AssumeRoleGuard`."""

    def __init__(self, ip_address: str, port: int) -> None:
        self._address = (ip_address, port)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.guard: AssumeRoleGuard | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self.guard = AssumeRoleGuard(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            *self._address, self.guard, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the AWS emulator is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _as_account(account: str) -> Callable[..., None]:
    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    return add_header


def trust_policy(trusted_principal: str) -> dict[str, Any]:
    """Trusted by the monitoring account's principal only (member-role.yaml's statement, without
    the conditions, which neither moto nor this guard evaluates)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted_principal},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def create_member_roles(
    endpoint: str,
    accounts: Iterable[str],
    *,
    trusted_principal: str = f"arn:aws:iam::{MONITOR_ACCOUNT}:root",
    role_name: str = MEMBER_ROLE_NAME,
    credentials: dict[str, str],
) -> list[str]:
    """Create the member role, with exactly the three read actions, in each of ``accounts``;
    return the role ARNs."""
    arns = []
    for account in accounts:
        iam = _iam_as(endpoint, account, credentials)
        # moto's state is per process: a second local stack in the same one finds the role.
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(trusted_principal)),
                Description="lfv-monitor: read Lookout for Vision packaging jobs (local stack)",
            )
        iam.put_role_policy(
            RoleName=role_name,
            PolicyName="lookoutvision-read",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": list(MEMBER_ROLE_ACTIONS), "Resource": "*"}
                    ],
                }
            ),
        )
        arns.append(member_role_arn(account, role_name))
    return arns


def _iam_as(endpoint: str, account: str, credentials: dict[str, str]) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    make: Any = session.client
    iam = make("iam", endpoint_url=endpoint)
    iam.meta.events.register("before-sign.iam", _as_account(account))
    return iam
