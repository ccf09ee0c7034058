"""The account converges whatever happens to the events: Hypothesis' stateful testing over the local engine.

A fixed budget that keeps `make test` fast, derandomized in CI so that a failure reproduces; `make bench` runs the
long soak (bench/convergence.py). The model and its invariant: tests/integration/convergence.py.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

from tests.integration.convergence import Convergence

TestConvergence = Convergence.TestCase
TestConvergence.settings = settings(
    max_examples=int(os.environ.get("CONVERGENCE_EXAMPLES", "10")),
    stateful_step_count=15,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    # Shrinking a failure takes minutes at these step times: CI reports the failing run as found (its blob
    # reproduces it); locally it is shrunk to a minimal one, to keep as a regression test.
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("CI") else list(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
