"""Provisioning lag, state transitions and cost: measured on the local engine, and modelled at AWS scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing

# Public prices, us-east-1, as of 2026-11 (aws.amazon.com/step-functions/pricing, /lambda/pricing).
STANDARD_TRANSITION_USD = 0.025 / 1000
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
LAMBDA_MEMORY_GB = 0.125  # MemorySize 128
LAMBDA_BILLED_SECONDS = 0.1  # assumed per invocation: one or two AWS API calls
LAMBDA_INVOCATION_USD = LAMBDA_REQUEST_USD + LAMBDA_MEMORY_GB * LAMBDA_BILLED_SECONDS * LAMBDA_ARM64_GB_SECOND_USD

# A healthy run's states outside the tracker's poll loop (WaitForEventTracker, CheckEventTracker,
# IsTrackingIdStored; the last check stores): ParseInput, CheckDatasetGroup, IsDatasetGroupActive,
# CreateOrAdoptTracker, NotifyProvisioned, Provisioned.
FIXED_TRANSITIONS = 6
# This workflow's own Choice states on that path: WhatToProvision, CreatedOrAdopted (the peers have neither).
OWN_CHOICES = 2
FIXED_LAMBDAS = 3  # ParseInput, CheckDatasetGroup, CreateOrAdoptTracker


@dataclass
class Outcome:
    strategy: str
    delay: float
    lag: float | None  # None: gave up before the tracker was ACTIVE
    transitions: int
    lambdas: int

    @property
    def cost_usd(self) -> float:
        return self.transitions * STANDARD_TRANSITION_USD + self.lambdas * LAMBDA_INVOCATION_USD


def ours(delay: float, first: int = 4, cap: int = 60, steady: float = 180) -> Outcome:
    """This workflow: wait `first`, check, while the resource is younger than `steady`; then each later wait doubles
    up to `cap` (Wait, Check, Choice each)."""
    t, wait, polls = 0.0, first, 0
    while True:
        t += wait
        polls += 1
        if t >= delay:
            break
        wait = first if t < steady else min(wait * 2, cap)
    transitions = FIXED_TRANSITIONS + OWN_CHOICES + 3 * polls
    return Outcome("steady, then exponential (this)", delay, t - delay, transitions, FIXED_LAMBDAS + polls)


def fixed(delay: float, interval: int = 60) -> Outcome:
    """Peer: check at once, then a fixed Wait/Choice loop."""
    polls = 1
    t = 0.0
    while t < delay:
        t += interval
        polls += 1
    # Check + Choice per poll, a Wait between two polls.
    return Outcome(
        f"fixed {interval} s loop", delay, t - delay, FIXED_TRANSITIONS + 3 * polls - 1, FIXED_LAMBDAS + polls
    )


def retry_error(delay: float, interval: float = 8, rate: float = 1.25, attempts: int = 15) -> Outcome:
    """Peer: the check raises a custom error until ACTIVE and Retry re-runs it (each retry is a billed transition)."""
    t, wait = 0.0, interval
    for retry in range(attempts + 1):
        if t >= delay:
            return Outcome(
                "retry error 8 s x1.25, 15", delay, t - delay, FIXED_TRANSITIONS + 1 + retry, FIXED_LAMBDAS + 1 + retry
            )
        if retry == attempts:
            break
        t += wait
        wait *= rate
    return Outcome(
        "retry error 8 s x1.25, 15", delay, None, FIXED_TRANSITIONS + 1 + attempts, FIXED_LAMBDAS + 1 + attempts
    )


def worst_case_lag(delay: float, first: int = 4, cap: int = 60) -> float:
    """Our lag bound at this delay: the length of the wait whose end first passes the delay."""
    t, wait = 0.0, first
    while t + wait < delay:
        t += wait
        wait = min(wait * 2, cap)
    return wait


def model(delays: list[float]) -> list[Outcome]:
    outcomes = []
    for delay in delays:
        same_cap = ours(delay, first=60, cap=60)
        same_cap.strategy = "this, PollIntervalSeconds=60"
        outcomes += [ours(delay), same_cap, fixed(delay, 60), retry_error(delay)]
        bound = int(worst_case_lag(delay))
        if bound != 60:
            outcomes.append(fixed(delay, bound))
    return outcomes


@dataclass
class Measured:
    delay: float
    lag: float
    transitions: int
    lambdas: int
    predicted_transitions: int
    predicted_lambdas: int
    provisioning_lag: float | None = None  # ProvisioningLagSeconds, as CheckEventTracker computed and emitted it
    time_to_tracking_id: float | None = None  # TimeToTrackingIdSeconds, idem (direct input: from the start)
    time_to_tracking_id_from: str = ""


def _stored_at(history: list[dict]) -> float:
    """When the last CheckEventTracker's function returned: the one that found it ACTIVE and wrote the parameter."""
    state, stored = None, None
    for event in history:
        if event["type"] == "TaskStateEntered":
            state = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "LambdaFunctionSucceeded" and state == "CheckEventTracker":
            timestamp = event["timestamp"]
            stored = timestamp.timestamp() if isinstance(timestamp, datetime) else float(timestamp)
    if stored is None:
        raise AssertionError("CheckEventTracker never succeeded")
    return stored


def measure(delays: list[float], first: int = 1, cap: int = 12) -> list[Measured]:
    """Run the real definition and handlers with the tracker ACTIVE `delay` seconds after it is created."""
    results = []
    for delay in delays:
        with PersonalizeEmulator() as emulator:
            stack = LocalEngine(
                emulator,
                {"PollIntervalSeconds": first, "MaxPollIntervalSeconds": cap, "ProvisioningTimeoutSeconds": 600},
                time_scale=1.0,
            )
            with stack:
                emulator.time_tracker("bench", Timing(pending=delay / 2, in_progress=delay / 2))
                stack.create_dataset_group("bench")
                execution = stack.run(
                    {"datasetGroupArn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/bench"}
                )
                assert execution.status == "SUCCEEDED", execution.cause
                [tracker] = emulator.trackers.values()
                active_at = tracker.created + delay
                stored_at = _stored_at(execution.history)
                predicted = ours(delay, first, cap)
                results.append(
                    Measured(
                        delay,
                        stored_at - active_at,
                        execution.state_transitions,
                        execution.lambda_invocations,
                        predicted.transitions,
                        predicted.lambdas,
                        execution.output["lag"]["provisioningLagSeconds"],
                        execution.output["lag"]["timeToTrackingIdSeconds"],
                        execution.output["lag"]["timeToTrackingIdFrom"],
                    )
                )
    return results


if __name__ == "__main__":
    for m in measure([2, 5]):
        print(m)
    for o in model([30, 60, 120, 600]):
        print(o, f"${o.cost_usd:.6f}")
