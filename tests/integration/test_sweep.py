"""Nothing stale: a deletion whose CloudTrail event was lost is repaired by the next scheduled run.

Plain scenarios of the convergence model (tests/integration/convergence.py), each step fixed: the cases the
issue names, and any counterexample Hypothesis finds, are kept here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.convergence import Convergence


class Fixed:
    """A `data` argument for a rule that draws this value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return self.value


@pytest.fixture
def world() -> Iterator[Convergence]:
    model = Convergence()
    try:
        yield model
    finally:
        model.since_hour = 0  # no final hour: each test runs its own
        model.teardown()


def an_hour(world: Convergence) -> None:
    world.since_hour = 3
    world.an_hour_passes()  # the schedule, then the invariant (it raises on any violation)


def test_a_dataset_group_deleted_with_its_events_lost_has_no_parameter_after_the_next_run(world: Convergence) -> None:
    for name in ("alpha", "beta"):
        world.create_dataset_group([], Fixed(name), False, "once")
    world.create_action_interactions_dataset([], Fixed("alpha"), "once")
    world.create_parameter_by_hand("alpha", "notes")
    an_hour(world)
    assert set(world.stack.parameters()) == {
        "/personalize/alpha/tracking-id", "/personalize/alpha/action-tracking-id", "/personalize/alpha/notes",
        "/personalize/beta/tracking-id",
    }  # fmt: skip

    world.delete_dataset_group([], Fixed("alpha"), ["lost", "lost", "lost"])  # tracker, dataset, group
    assert "/personalize/alpha/tracking-id" in world.stack.parameters()  # no teardown ran
    an_hour(world)

    assert set(world.stack.parameters()) == {"/personalize/alpha/notes", "/personalize/beta/tracking-id"}
    assert world.stack.parameter("/personalize/alpha/notes")["Value"] == world.by_hand["/personalize/alpha/notes"]


def test_an_action_dataset_deleted_with_its_event_lost_loses_only_its_parameter(world: Convergence) -> None:
    world.create_dataset_group([], Fixed("alpha"), False, "once")
    world.create_action_interactions_dataset([], Fixed("alpha"), "once")
    an_hour(world)
    tracking_id = world.stack.parameter("/personalize/alpha/tracking-id")["Value"]

    world.delete_action_interactions_dataset([], Fixed("alpha"), "lost")
    an_hour(world)

    assert world.stack.parameters() == ["/personalize/alpha/tracking-id"]
    assert world.stack.parameter("/personalize/alpha/tracking-id")["Value"] == tracking_id


def test_a_deletion_delivered_late_after_the_group_came_back_is_repaired(world: Convergence) -> None:
    """The DeleteDatasetGroup event of the first group arrives after the second was created with its name."""
    world.create_dataset_group([], Fixed("alpha"), False, "once")
    an_hour(world)
    world.delete_dataset_group([], Fixed("alpha"), ["lost", "lost", "late"])
    world.create_dataset_group([], Fixed("alpha"), False, "once")  # the late teardown runs after this event
    an_hour(world)  # the reconciler writes the parameter the late teardown removed
    [tracker] = world.emulator.trackers_of("alpha")
    assert world.stack.parameter("/personalize/alpha/tracking-id")["Value"] == tracker["trackingId"]
