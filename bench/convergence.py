"""The convergence soak: the stateful model of tests/integration/convergence.py, for many examples and steps."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))  # common, as in the layer

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.integration import convergence


@dataclass
class Soak:
    examples: int
    steps_per_example: int
    seconds: float
    tally: convergence.Tally
    failure: str | None  # the counterexample's error, if Hypothesis found one


def soak(examples: int = 25, steps: int = 25) -> Soak:
    convergence.TALLY.__init__()  # type: ignore[misc]
    started = time.monotonic()
    failure = None
    try:
        run_state_machine_as_test(
            convergence.Convergence,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    except Exception as error:  # reported in bench/results.md, and kept as a regression test by hand
        failure = f"{type(error).__name__}: {error}"
    return Soak(examples, steps, time.monotonic() - started, convergence.TALLY, failure)


if __name__ == "__main__":
    print(soak(3, 10))
