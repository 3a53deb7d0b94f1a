"""Create (or reuse) the resources stack from `infra/resources.json` and publish its Outputs.

The local stack and the tests build their AWS resources through CloudFormation from the
template production deploys, so a key, name or redrive setting cannot drift between them.
Outputs become environment variables by one rule (`TableName` -> `TABLE_NAME`), the same
rule `infra/package.py` uses to wire the Lambda functions.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

TEMPLATE_PATH = Path(__file__).with_name("resources.json")
DEFAULT_STACK_NAME = "dyrector"
_USABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """The stack could not be created or is in a state that cannot be used."""


def template() -> dict[str, Any]:
    return json.loads(TEMPLATE_PATH.read_text())


def env_name(output_key: str) -> str:
    """`KmsKeyId` -> `KMS_KEY_ID`: the environment variable an Output is published as."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", output_key).upper()


def client(service: str) -> Any:
    """A boto3 client for the environment's endpoint (`AWS_ENDPOINT_URL`) and region."""
    import boto3

    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    return boto3.session.Session().client(service, region_name=region)


def create_stack(
    name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    *,
    cloudformation: Any = None,
    timeout_seconds: int = 300,
) -> dict[str, str]:
    """Return the stack's Outputs, creating the stack first unless it already exists.

    An existing usable stack (e.g. on a long-lived LocalStack) is reused as it is.
    """
    cfn = cloudformation or client("cloudformation")
    stack = _describe(cfn, name)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        log.warning("stack %s is ROLLBACK_COMPLETE (unusable); deleting it and creating it again", name)
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=_waiter(timeout_seconds))
        stack = None
    if stack is None:
        stack = _create(cfn, name, parameters or {}, timeout_seconds)
    elif stack["StackStatus"] not in _USABLE:
        raise StackError(f"stack {name} is {stack['StackStatus']}; wait for it or delete it")
    else:
        log.info("reusing existing stack %s (%s)", name, stack["StackStatus"])
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def export_outputs(outputs: Mapping[str, str], environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Publish each Output as its environment variable; returns what was set."""
    environ = os.environ if environ is None else environ
    published = {env_name(key): value for key, value in outputs.items()}
    environ.update(published)
    return published


def verify_mail_sender(sender: str | None = None, *, ses: Any = None) -> str:
    """Verify the SES identity the app sends from (moto refuses unverified senders)."""
    sender = sender or os.environ.get("MAIL_SENDER") or "no-reply@dyrector.local"
    (ses or client("ses")).verify_email_identity(EmailAddress=sender)
    return sender


def _describe(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0] if stacks else None


def _create(cfn: Any, name: str, parameters: Mapping[str, str], timeout_seconds: int) -> dict[str, Any]:
    from botocore.exceptions import WaiterError

    log.info("creating stack %s from %s", name, TEMPLATE_PATH.name)
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
    )
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=_waiter(timeout_seconds))
    except WaiterError as error:
        raise StackError(f"stack {name} was not created: {_failure_reasons(cfn, name) or error}") from error
    stack = _describe(cfn, name)
    if stack is None or stack["StackStatus"] not in _USABLE:
        raise StackError(f"stack {name} was not created: {_failure_reasons(cfn, name)}")
    return stack


def _failure_reasons(cfn: Any, name: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except Exception:  # noqa: BLE001 - best effort diagnostics only
        return ""
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED")
    ]
    return "; ".join(reasons)


def _waiter(timeout_seconds: int) -> dict[str, int]:
    return {"Delay": 1, "MaxAttempts": max(1, timeout_seconds)}
