"""Bad input: generated events and named hostile inputs through the whole input path (the real workflow)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator
from tests.helpers import FAST
from tests.hostile_inputs import HOSTILE, SEEDED
from tests.strategies import generated_inputs


@dataclass
class BadInput:
    generated: int
    outcomes: Counter = field(default_factory=Counter)
    written_for_invalid: int = 0
    hostile: list[tuple[str, str, str, bool]] = field(default_factory=list)  # name, expected, got, ok


def generate(count: int) -> list[Any]:
    examples: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(generated_inputs)
    def collect(payload: Any) -> None:
        examples.append(payload)

    collect()
    return examples


def outcome(execution: Any) -> str:
    return "SUCCEEDED" if execution.status == "SUCCEEDED" else str(execution.error)


def bad_input(count: int = 1000) -> BadInput:
    examples = generate(count)
    result = BadInput(generated=len(examples))
    with PersonalizeEmulator() as emulator, LocalEngine(emulator, FAST, time_scale=1.0) as stack:
        for name in SEEDED:
            stack.create_dataset_group(name)
        with ThreadPoolExecutor(max_workers=16) as pool:
            executions = list(pool.map(stack.run, examples))
        for execution in executions:
            result.outcomes[outcome(execution)] += 1
        written = set(stack.parameters())
        succeeded = {e.output["parameterName"] for e in executions if e.status == "SUCCEEDED"}
        result.written_for_invalid = len(written - succeeded)
    for name, (payload, expected) in HOSTILE.items():
        with PersonalizeEmulator() as emulator, LocalEngine(emulator, FAST, time_scale=1.0) as stack:
            for seeded in SEEDED:
                stack.create_dataset_group(seeded)
            execution = stack.run(payload)
            got = outcome(execution)
            clean = got == expected and (got == "SUCCEEDED" or stack.parameters() == [])
            result.hostile.append((name, expected, got, clean))
    return result


if __name__ == "__main__":
    report = bad_input(200)
    print(report.generated, dict(report.outcomes), report.written_for_invalid)
    for row in report.hostile:
        print(row)
