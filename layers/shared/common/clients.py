"""boto3 clients, made once per container with botocore's standard retry mode.

Standard mode retries throttling codes (LimitExceededException and
ThrottlingException among them) with jittered exponential backoff, a bounded
number of times. Endpoints follow boto3's own AWS_ENDPOINT_URL_<SERVICE> variables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_personalize import PersonalizeClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

MAX_ATTEMPTS = 3  # botocore's standard default; the state machine retries LimitExceeded further
# A hung call ends: every Personalize, SSM, Step Functions and Lambda call here answers in well under a second.
CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5
ATTEMPT_SECONDS = CONNECT_TIMEOUT + READ_TIMEOUT
# botocore's retry modes wait rand(0, 1) * min(2 ** i, 20) s before retry i+1, up to 5 s more when the service
# sends x-amz-retry-after; the adaptive limiter's slowest rate is 0.5 requests a second
# (tests/template/test_timeouts.py checks these against the installed botocore).
BACKOFF_CAP_SECONDS = 20
RETRY_AFTER_EXTRA_SECONDS = 5
LIMITER_MIN_RATE = 0.5

_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    user_agent_extra="event-tracker-provisioner",
)

# For the reconciler, which reads a whole account: adaptive mode adds botocore's client-side rate limiter, which
# learns from throttling answers the rate the service accepts and sends no faster, so a big account slows the
# run down instead of failing calls; more attempts, since each waits for the limiter rather than hammering.
PACED_MAX_ATTEMPTS = 8
_PACED = _CONFIG.merge(Config(retries={"mode": "adaptive", "total_max_attempts": PACED_MAX_ATTEMPTS}))

# For a caller that waits a short, fixed time for the answer (CloudFormation waits 30 s for a hook): one attempt and
# no retry, so that a call takes at most ATTEMPT_SECONDS; the caller asks again.
_ONCE = _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


def _config(paced: bool, once: bool) -> Config:
    return _ONCE if once else _PACED if paced else _CONFIG


def personalize_client(paced: bool = False, once: bool = False) -> PersonalizeClient:
    return boto3.client("personalize", config=_config(paced, once))


def ssm_client(paced: bool = False, once: bool = False) -> SSMClient:
    return boto3.client("ssm", config=_config(paced, once))


def cloudformation_client(once: bool = False) -> CloudFormationClient:
    return boto3.client("cloudformation", config=_config(False, once))


def events_client() -> EventBridgeClient:
    return boto3.client("events", config=_CONFIG)


def stepfunctions_client(paced: bool = False) -> SFNClient:
    return boto3.client("stepfunctions", config=_PACED if paced else _CONFIG)


def lambda_client() -> LambdaClient:
    return boto3.client("lambda", config=_CONFIG)


def worst_call_seconds(paced: bool = False) -> float:
    """The longest one call can take: every attempt hung to its timeouts, every retry's longest wait, and (paced)
    the adaptive limiter's longest wait before each attempt."""
    attempts = PACED_MAX_ATTEMPTS if paced else MAX_ATTEMPTS
    waits = sum(min(2**retry, BACKOFF_CAP_SECONDS) + RETRY_AFTER_EXTRA_SECONDS for retry in range(attempts - 1))
    limiter = attempts / LIMITER_MIN_RATE if paced else 0.0
    return attempts * ATTEMPT_SECONDS + waits + limiter


class OutOfTime(Exception):
    """An attempt of an AWS call that might not end before the invocation's time is up was not begun."""


Client = TypeVar("Client")


class Deadline:
    """For a function that works until its time is nearly up (the reconciler, the sweeper): no attempt of an AWS
    call begins that could outlast the invocation with `reserve` seconds left, however the calls hang.

    After an attempt begins, at most the limiter's wait and the attempt itself pass before the next check (a
    retry's backoff comes before the next attempt, which is checked again)."""

    def __init__(self, reserve: float) -> None:
        self.reserve = reserve
        self.seconds_left: Callable[[], float] = lambda: math.inf  # the invocation's, set for each invocation

    @property
    def needed(self) -> float:
        """Seconds that must be left to begin an attempt."""
        return 1 / LIMITER_MIN_RATE + ATTEMPT_SECONDS + self.reserve

    def watch(self, client: Client) -> Client:
        client.meta.events.register("request-created", self._check)  # type: ignore[attr-defined]
        return client

    def _check(self, **_: Any) -> None:
        left = self.seconds_left()
        if left < self.needed:
            raise OutOfTime(f"{left:.1f} s left; an attempt and the hand-over need {self.needed:.1f} s")
