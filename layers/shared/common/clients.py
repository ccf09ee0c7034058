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
    from mypy_boto3_lambda import LambdaClient
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

# For the reconciler, which reads a whole account: adaptive mode adds botocore's client-side rate limiter, which
# learns from throttling answers the rate the service accepts and sends no faster, so a big account slows the
# run down instead of failing calls; more attempts, since each waits for the limiter rather than hammering.
PACED_MAX_ATTEMPTS = 8
_PACED = _CONFIG.merge(Config(retries={"mode": "adaptive", "total_max_attempts": PACED_MAX_ATTEMPTS}))


def personalize_client(paced: bool = False) -> PersonalizeClient:
    return boto3.client("personalize", config=_PACED if paced else _CONFIG)


def ssm_client(paced: bool = False) -> SSMClient:
    return boto3.client("ssm", config=_PACED if paced else _CONFIG)


def stepfunctions_client(paced: bool = False) -> SFNClient:
    return boto3.client("stepfunctions", config=_PACED if paced else _CONFIG)


def lambda_client() -> LambdaClient:
    return boto3.client("lambda", config=_CONFIG)
