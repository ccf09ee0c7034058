"""boto3 clients, made once per container with botocore's standard retry mode.

Standard mode retries throttling codes (LimitExceededException and
ThrottlingException among them) with jittered exponential backoff, a bounded
number of times. Endpoints follow boto3's AWS_ENDPOINT_URL_<SERVICE> variables,
which is how the local run reaches its Personalize emulator: no test hooks here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

MAX_ATTEMPTS = 3  # botocore's standard default; the state machine retries LimitExceeded further

_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="event-tracker-provisioner",
)


def personalize_client() -> PersonalizeClient:
    return boto3.client("personalize", config=_CONFIG)


def ssm_client() -> SSMClient:
    return boto3.client("ssm", config=_CONFIG)


def stepfunctions_client() -> SFNClient:
    return boto3.client("stepfunctions", config=_CONFIG)
