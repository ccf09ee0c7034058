"""The account converges whatever happens to the events: Hypothesis' stateful testing over the local engine.

Two fixed budgets, derandomized in CI so that a failure reproduces: a few examples in `make test`, ten in
`make test-slow`; `make bench` runs the long soak (bench/convergence.py). The model and its invariant:
tests/integration/convergence.py.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.integration.convergence import Convergence


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=15,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        # Shrinking a failure takes minutes at these step times: CI reports the failing run as found (its blob
        # reproduces it); locally it is shrunk to a minimal one, to keep as a regression test.
        phases=[Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("CI") else list(Phase),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
    )


class TestConvergence(Convergence.TestCase):  # type: ignore[name-defined]
    settings = budget(int(os.environ.get("CONVERGENCE_EXAMPLES", "2")))


@pytest.mark.slow
class TestConvergenceLonger(Convergence.TestCase):  # type: ignore[name-defined]
    settings = budget(int(os.environ.get("CONVERGENCE_SLOW_EXAMPLES", "10")))
