"""The account converges whatever happens to the events: Hypothesis' stateful testing over the local engine.

Two fixed budgets, derandomized in CI so that a failure reproduces: one example in `make test`, ten in
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
    settings = budget(int(os.environ.get("CONVERGENCE_EXAMPLES", "1")))


# `make test-slow`'s ten examples, in parts that its workers run side by side: a run waits on the engine's clock far
# more than it computes. Each part is a machine class of its own, since Hypothesis seeds a stateful test (derandomized
# in CI) by its machine class: the parts draw different examples.
SLOW_EXAMPLES = int(os.environ.get("CONVERGENCE_SLOW_EXAMPLES", "10"))
SLOW_PARTS = 5


def slow_part(part: int) -> type:
    machine = type(f"ConvergencePart{part}", (Convergence,), {})
    examples = SLOW_EXAMPLES // SLOW_PARTS + (part <= SLOW_EXAMPLES % SLOW_PARTS)
    return pytest.mark.slow(type(f"TestConvergenceLonger{part}", (machine.TestCase,), {"settings": budget(examples)}))


TestConvergenceLonger1 = slow_part(1)
TestConvergenceLonger2 = slow_part(2)
TestConvergenceLonger3 = slow_part(3)
TestConvergenceLonger4 = slow_part(4)
TestConvergenceLonger5 = slow_part(5)
