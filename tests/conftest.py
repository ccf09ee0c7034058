"""Shared fixtures: the Personalize emulator and the application on the local engine."""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Handler modules make their boto3 clients at import: give them a region and dummy credentials.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "EventTrackerProvisioner",
        "POWERTOOLS_SERVICE_NAME": "event-tracker-provisioner",
    }
)

if os.environ.get("PYTEST_XDIST_WORKER"):
    # A worker's heap (moto's backends, botocore's models, every module) takes seconds to free at exit, while the
    # controller waits; it has every result by then. What registered later still runs first; what registered before
    # (logging's final flush among them) is skipped, so the output is flushed here.
    atexit.register(lambda: (sys.stdout.flush(), sys.stderr.flush(), os._exit(0)))

from tests.helpers import ACCOUNT, FAST, REGION, choice_reads_missing

if TYPE_CHECKING:  # imported where needed: xdist's controller and a skipped tier never import moto
    from local.engine import LocalEngine
    from local.personalize_emulator import PersonalizeEmulator


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collecting imported (moto, botocore, SAM's translator, every test module) lives as long as the worker:
    the garbage collector's full passes no longer walk it (a run spent 22 s of CPU in GC, 13 s of it in those)."""
    gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def _botocore_models_read_once() -> Iterator[None]:
    """Every test's clients, not only the engine's: each mock_aws starts a new default session, which would parse
    botocore's models again (a twentieth of the tests' CPU)."""
    from local import moto_patches

    with moto_patches.botocore_models_read_once():
        yield


@pytest.fixture
def emulator() -> Iterator[PersonalizeEmulator]:
    from local.personalize_emulator import PersonalizeEmulator

    with PersonalizeEmulator(ACCOUNT, REGION) as emulator:
        yield emulator


@pytest.fixture
def personalize(emulator: PersonalizeEmulator) -> Any:
    """A real boto3 Personalize client pointed at the emulator, as the handlers' clients are."""
    import boto3

    return boto3.client("personalize", region_name=REGION, endpoint_url=emulator.url)


@pytest.fixture
def ssm() -> Iterator[Any]:
    """moto's SSM, for the functions' pure logic (unit tests)."""
    from moto import mock_aws

    with mock_aws():
        import boto3

        yield boto3.client("ssm", region_name=REGION)


@pytest.fixture
def make_stack(emulator: PersonalizeEmulator) -> Iterator[Callable[..., LocalEngine]]:
    """Start the application from template.yaml with parameter overrides (FAST by default)."""
    from local.engine import LocalEngine

    started: list[LocalEngine] = []
    missing: list[str] = []  # every execution a test waited for: no Choice compared a field its input lacked

    def make(engine: dict[str, Any] | None = None, **overrides: Any) -> LocalEngine:
        """`engine`: LocalEngine's own options (function_timeouts, timeout_error, ...)."""
        stack = LocalEngine(emulator, {**FAST, **overrides}, **(engine or {}))
        definition = json.loads(stack.machine.definition)
        stack.on_wait.append(lambda execution: missing.extend(choice_reads_missing(definition, execution.history)))
        stack.__enter__()
        started.append(stack)
        return stack

    yield make
    for stack in reversed(started):
        stack.__exit__(None, None, None)
    assert missing == []


@pytest.fixture
def stack(make_stack: Callable[..., LocalEngine]) -> LocalEngine:
    return make_stack()


@pytest.fixture
def retry_delays() -> Iterator[list[float]]:
    """Record the delays the engine's Retry would sleep, and skip the sleeping.

    Only for tests that count retries up to their bound; every other test
    runs with the real delays.
    """
    import time as real_time

    delays: list[float] = []

    class Clock:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            delays.append(seconds)

    from local import moto_patches

    with moto_patches.retry_clock(Clock()):
        yield delays


@pytest.fixture
def no_client_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries without their backoff sleeps (and adaptive mode's rate limiter without its waits), for
    tests that use up a client's attempts."""
    from botocore.retries.adaptive import ClientRateLimiter
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(ClientRateLimiter, "on_sending_request", lambda self, request, **kwargs: None)
