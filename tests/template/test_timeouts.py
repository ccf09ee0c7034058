"""Hung calls end: every function's AWS calls, each hung to its client's timeouts through every attempt, with
every retry's longest backoff and the adaptive limiter's longest waits, fit inside the function's Timeout.

The workflow functions make a bounded number of calls (tests.code_calls reads the bound from the code). The
reconciler and the sweeper loop over an account, the teardown over a group's parameters, ReleaseTracker until a
tracker is gone: they begin no attempt that could outlast the invocation (common.clients.Deadline; the first two
hand the rest over, the others fail and are tried again); their reserve must fit well inside their Timeout."""

from __future__ import annotations

import os
import sys
from typing import Any
from unittest import mock

import pytest
from botocore.retries.bucket import TokenBucket
from botocore.retries.standard import ExponentialBackoff

from common import clients
from local.engine import load_handler
from local.template import Template
from tests.code_calls import call_sites
from tests.helpers import REGION

TEMPLATE = Template()
FUNCTIONS = TEMPLATE.functions()
LOOPING = {
    "ReconcilerFunction",
    "SweeperFunction",
    "TeardownFunction",
    "ReleaseTrackerFunction",
}  # watch their deadline
MARGIN = 0.8  # the worst case may take at most this share of the Timeout


def timeout(name: str) -> float:
    globals_ = TEMPLATE.doc["Globals"]["Function"]
    return float(FUNCTIONS[name].properties.get("Timeout", globals_.get("Timeout", 3)))


def test_the_retry_arithmetic_is_botocores() -> None:
    assert ExponentialBackoff._BASE == 2
    assert ExponentialBackoff._MAX_BACKOFF == clients.BACKOFF_CAP_SECONDS
    assert ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL == clients.RETRY_AFTER_EXTRA_SECONDS
    assert TokenBucket._MIN_RATE == clients.LIMITER_MIN_RATE
    config = clients._CONFIG
    assert (config.connect_timeout, config.read_timeout) == (clients.CONNECT_TIMEOUT, clients.READ_TIMEOUT)
    assert config.retries["total_max_attempts"] == clients.MAX_ATTEMPTS
    assert clients._PACED.retries == {"mode": "adaptive", "total_max_attempts": clients.PACED_MAX_ATTEMPTS}
    # 3 attempts of 7 s, then waits of at most 1 + 5 and 2 + 5 s
    assert clients.worst_call_seconds() == 34


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - LOOPING))
def test_a_function_whose_every_call_hangs_still_ends_before_its_timeout(name: str) -> None:
    worst = call_sites(FUNCTIONS[name]) * clients.worst_call_seconds()
    assert worst <= MARGIN * timeout(name), f"{name}: {worst} s of calls in a Timeout of {timeout(name)} s"


@pytest.mark.parametrize("name", sorted(LOOPING))
def test_a_looping_function_keeps_time_for_its_hand_over(name: str) -> None:
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x"}):
        module = vars(sys.modules[load_handler(FUNCTIONS[name]).__module__])
    deadline = module["DEADLINE"]
    assert deadline.reserve >= clients.worst_call_seconds()  # the hand-over's own call
    assert deadline.needed <= 0.5 * timeout(name)  # at least half the invocation does work
    # Every client of the function is watched: with no time left, no call begins.
    watched = [module[n] for n in ("personalize", "ssm", "stepfunctions") if n in module]
    assert len(watched) >= 2
    no_call_begins(deadline, watched)


def test_every_hook_invocation_answers_within_cloudformations_30_s() -> None:
    """ReleaseTracker's hook path: single-attempt clients (a call takes at most ATTEMPT_SECONDS, however it hangs),
    and no attempt begins with less than the attempt and the answer left of CloudFormation's 30 s."""
    name = "ReleaseTrackerFunction"
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x"}):
        module = vars(sys.modules[load_handler(FUNCTIONS[name]).__module__])
    deadline, wait = module["HOOK_DEADLINE"], module["CLOUDFORMATION_WAIT_SECONDS"]
    assert wait == 30  # the Hooks user guide: "it will wait up to 30 seconds"
    assert deadline.needed >= clients.ATTEMPT_SECONDS + module["HOOK_ANSWER_SECONDS"]
    assert deadline.needed <= 0.5 * wait  # at least half of it does work
    watched = list(module["hook_clients"]())
    for client in watched:
        config = client.meta.config
        assert config.retries["total_max_attempts"] == 1
        assert (config.connect_timeout, config.read_timeout) == (clients.CONNECT_TIMEOUT, clients.READ_TIMEOUT)
    no_call_begins(deadline, watched)


def no_call_begins(deadline: clients.Deadline, watched: list[Any]) -> None:
    """With less time left than an attempt and the answer need, none of these clients begins a call."""
    operations = {"personalize": "list_dataset_groups", "ssm": "describe_parameters", "stepfunctions": (
        "list_state_machines"), "cloudformation": "list_stacks"}  # fmt: skip
    deadline.seconds_left = lambda: deadline.needed - 1
    try:
        for client in watched:
            with pytest.raises(clients.OutOfTime):
                getattr(client, operations[client.meta.service_model.service_name])()
    finally:
        deadline.seconds_left = lambda: float("inf")
