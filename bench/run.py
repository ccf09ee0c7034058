"""`make bench`: measure, and write bench/results.md. Not part of the test suite: nothing here asserts timings.

    python -m bench.run               every section (about 40 minutes; sections 3 and 5 need Docker)
    python -m bench.run --only 4 7    these sections again, in place in bench/results.md

bench/results.md ends with the finished investigations, which are kept as they are.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import burst, cold_start, reconciler_scale
from local.template import ROOT

RESULTS = ROOT / "bench" / "results.md"
FINISHED = "# Finished investigations"


def machine() -> str:
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
    memory = int(meminfo.read_text().split("MemTotal:")[1].split()[0]) / 1024 / 1024 if meminfo.exists() else 0
    cpu = names[0] if names else "unknown CPU"
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}"


def _table(header: str, rows: list[list[object]]) -> str:
    """A Markdown table; `header` is its column names separated by |."""
    columns = header.split("|")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def section_cold_start(runs: int) -> str:
    baseline, results = cold_start.cold_starts(runs)
    sizes = cold_start.package_sizes()
    worst = max(r.ratio for r in results)
    rows = [["baseline: `import boto3; boto3.client('personalize')`", f"{baseline:.0f}", "1.00", ""]]
    rows += [
        [f"{r.function} (`{cold_start.FUNCTIONS[r.function].code_uri.relative_to(ROOT)}/{r.module}.py`)",
         f"{r.median_ms:.0f}", f"{r.ratio:.2f}", ", ".join(f"{name} {ms:.0f}" for name, ms in r.top_imports)]
        for r in results
    ]  # fmt: skip
    shared = sizes["SharedCodeLayer"]
    functions = cold_start.FUNCTIONS
    size_rows = [[name, f"{sizes[name] / 1024:.1f}", f"{(sizes[name] + shared) / 1024:.1f}"] for name in functions]
    largest = max(sizes[name] + shared for name in functions)
    held = "met" if largest < 50 * 1024 else "NOT met"
    return f"""## 1. Cold start

Import and init of each handler module (its clients included) in a fresh interpreter, median of {runs} rounds
(each round times the baseline and every handler once, interleaved, so that drift of the machine weighs on all), in a
venv holding only what a deployed function has (`bench/requirements-lambda.txt`: boto3, Powertools, pydantic).
Breakdown: `python -X importtime` self-times summed by top-level package, in ms (the handler's own row includes
making its boto3 clients).

{_table("module|median ms|ratio to baseline|where the time goes (ms)", rows)}

Target at most 1.3x the baseline: **{"met" if worst <= 1.3 else "NOT met"}** (worst {worst:.2f}x).
The reconciler imports pydantic only when it reads a running execution's input. (No tracing: the Tracer's cost,
under "Finished investigations".)

Deployment packages from `sam build`, our code only (Powertools comes from its public layer, boto3 from the
runtime), in KB. Each function's package holds its own handler; the code they share (`layers/shared/common/`) is
one layer, SharedCodeLayer, of {shared / 1024:.1f} KB. The target, under 50 KB, is held by what a function runs:
its package and that layer together (largest {largest / 1024:.1f} KB: **{held}**).

{_table("function|its package|with SharedCodeLayer", size_rows)}
"""


def section_burst() -> str:
    results = [burst.burst(groups) for groups in (100, 300)] + [burst.burst(60, lambda_concurrency=10)]
    rows = [
        [r.groups, r.lambda_concurrency or "unlimited", r.lambda_throttled, r.succeeded, r.failed, r.missing,
         r.parameters_right, f"{r.wall_seconds:.0f} s", r.throttled_calls, r.calls.get("CreateEventTracker", 0),
         r.calls.get("DescribeEventTracker", 0), r.peak_concurrent]
        for r in results
    ]  # fmt: skip
    errors = "; ".join(f"{r.groups}: {r.errors}" for r in results if r.errors) or "none"
    header = (
        "groups|Lambda concurrency|throttled invocations|succeeded|failed|missing|right parameters|wall time|"
        "throttled calls|CreateEventTracker calls|DescribeEventTracker calls|peak concurrent executions"
    )
    return f"""## 2. Burst

N dataset groups created at once; every execution started together on the local engine; the emulator (in a
process of its own) answers LimitExceededException past {burst.RATE} requests a second of CreateEventTracker and of
DescribeEventTracker. Settings: {burst.SETTINGS}; trackers ACTIVE 10 s after creation. The last row also limits
the account's Lambda concurrency to 10 (each invocation holding its slot 0.2 s): invocations beyond it are refused
with TooManyRequestsException and reach the workflow as `Lambda.TooManyRequestsException`, as on AWS.

{_table(header, rows)}

Failed executions' errors: {errors}. Target: all succeeded, none missing.
"""


def section_sam_local_invoke(runs: int) -> str:
    from bench import sam_invoke

    first, results = sam_invoke.measure(runs)
    rows = [
        [f"`{r.function}`", f"`{r.event}`", " / ".join(f"{s:.1f}" for s in r.seconds),
         " / ".join(f"{d / 1000:.1f}" for d in r.durations_ms), "yes" if r.ok else "NO"]
        for r in results
    ]  # fmt: skip
    walls = [s for r in results for s in r.seconds]
    size_rows = [[what, f"{mb:.1f}"] for what, mb in sam_invoke.sizes().items()]
    return f"""## 3. `sam local invoke`

Each `make invoke` line of docs/local.md, {runs} times, after one first invoke that builds SAM CLI's image
(stand-in base image + SAM's runtime emulator + the Powertools layer): **{first:.1f} s** for that first one.
The functions are arm64: on this x86_64 machine they run under qemu, so these figures describe the local tool,
not Lambda's cold start. Wall time is the whole `make invoke` (layer check, local services, SAM CLI reading the
template, a new container); "in container" is the runtime's own REPORT Duration (import and handler; under
`--debug-port` the init is counted in it).

{_table("function|event|wall s (each run)|in container s|result checked", rows)}

Later invocations: {min(walls):.1f} to {max(walls):.1f} s wall. Sizes (MB):

{_table("what|MB", size_rows)}
"""


SCALE_HEADER = (
    "{n}|{stale}|reads|wall s|invocations|checked|{done}|exactly the {stale}|unchecked|throttled calls|read calls"
)


def section_reconciler_scale() -> str:
    runs = [reconciler_scale.run(groups, 20, rate) for rate in (10, 5) for groups in (100, 300, 1000)]
    rows = [
        [r.groups, r.missing, f"{r.reads_per_second:.0f}/s", f"{r.wall_seconds:.0f}", r.invocations, r.checked,
         r.started, "yes" if r.started_right else "NO", r.unchecked, r.throttled_calls, r.calls]
        for r in runs
    ]  # fmt: skip
    return f"""## 4. The reconciler at scale

One scheduled run of the reconciler on the local engine (`bench/reconciler_scale.py`): N dataset groups with
their tracker, 20 of them missing their parameter, and the emulator answering LimitExceededException past the
given rate for each of Personalize's reads ({", ".join(reconciler_scale.READS)}), each limited on its own. The
function's timeout is the template's (300 s); an invocation hands the groups after its last page to a new one
when the next page might not fit. Wall time is until the last invocation reported.

{_table(SCALE_HEADER.format(n="groups", stale="missing", done="started"), rows)}
"""


def section_containers(runs: int) -> str:
    from bench import containers

    results, (startup, cold, warm) = containers.measure(runs)
    rows = [
        [r.mode, r.result, f"{r.wall:.1f}", f"{r.command:.1f}", "" if r.startup is None else f"{r.startup:.1f}",
         r.invocations]
        for r in results
    ]  # fmt: skip
    by_mode = {mode: [r.wall for r in results if r.mode == mode] for mode in ("in-process", "containers")}
    inside, outside = containers.median(by_mode["containers"]), containers.median(by_mode["in-process"])
    return f"""## 5. The whole workflow in containers

`make local` against `make local ARGS=--containers` on the same scenario (the sample CreateDatasetGroup event; the
dataset group ACTIVE after 3 s, the tracker after 4 s), {runs} runs each, alternating. In containers every task's
function runs in its Lambda container (`sam local start-lambda --warm-containers LAZY` on the `sam build` of the
template), arm64 under qemu on this x86_64 machine: these are figures of the local tool here, not of Lambda. "run"
is the summary's wall time (first state to last), "command" the whole command, with set-up and clean-up.

{_table("mode|result|run s|command s|start-lambda up s|lambda invocations", rows)}

- The run: {inside:.1f} s in containers against {outside:.1f} s in-process (medians). In containers each function's
  first invocation is a cold start that takes longer than the emulator's waits, so the run polls less.
- `sam local start-lambda`'s start-up (`sam build` of the template, then listening): {startup:.1f} s for the
  single-function figures below (the table's column for the runs).
- One function (ParseInputFunction) through the Lambda Invoke API: cold {cold:.2f} s, warm
  {containers.median(warm):.2f} s (median of {len(warm)}; {", ".join(f"{t:.2f}" for t in warm)}).
"""


def section_convergence(examples: int, steps: int) -> str:
    from bench import convergence

    soak = convergence.soak(examples, steps)
    tally = soak.tally
    fates = ", ".join(f"{tally.fates[fate]} {fate}" for fate in ("once", "twice", "late", "lost"))
    found = ": " + "; ".join(sorted(set(tally.violations))) if tally.violations else ""
    rows = [
        ["steps", tally.steps],
        ["hours (scheduled runs, each followed by the invariant)", tally.hours],
        ["CloudTrail events", f"{sum(tally.fates.values())}: {fates}"],
        ["deletions refused by Personalize / trackers released for a deletion / stack deletions",
         f"{tally.refusals} / {tally.releases} / {tally.stack_deletions}"],
        ["faults injected (failed calls)",
         f"{tally.faults}: {tally.faults - tally.ssm_faults} Personalize, {tally.ssm_faults} SSM"],
        ["trackers a person deleted before the application stored their ID (not held: docs/operations.md)",
         tally.unknown_deletions],
        ["invariant violations", f"{len(tally.violations)}{found}"],
        ["counterexample", soak.failure or "none found"],
        ["wall time", f"{soak.seconds:.0f} s"],
    ]  # fmt: skip
    return f"""## 6. Convergence soak

The stateful model of `tests/integration/convergence.py` (Hypothesis `RuleBasedStateMachine` over the local engine
and the emulator with Personalize's deletion rules: dataset groups with their Item interactions datasets and Action
interactions datasets created and deleted, trackers deleted, the workflow started and parameters written by hand,
groups torn down by a person, by a script retrying when refused and by a stack through the deletion hook, each
CloudTrail event, refusals included, delivered once, twice, late or never, throttling and transient faults on the
application's Personalize calls and on its SSM writes, tagging and deletions, and hours passing with the
reconciler and the sweeper), {examples} examples of up to {steps} steps, not derandomized. The invariant is checked
after every hour, once the engine has settled and the schedule has run; at every step, that no deletion is refused
twice because of the application's tracker once a refusal's event arrived, that no tracker is made after a person
deleted one unless by hand, and that no delivered event removes the parameter of a live group and tracker.

{_table("figure|value", rows)}
"""


def section_sweeper_scale() -> str:
    from bench import sweeper_scale

    runs = [sweeper_scale.run(1000, rate) for rate in (10, 5)]
    rows = [
        [r.parameters, r.stale, f"{r.reads_per_second:g}/s", f"{r.wall_seconds:.0f}", r.invocations, r.checked,
         r.swept, "yes" if r.swept_right else "NO", r.unchecked, r.throttled_calls, r.calls]
        for r in runs
    ]  # fmt: skip
    return f"""## 7. The sweeper at scale

1,000 parameters under the prefix: half stale (250 deleted dataset groups, each with its tracking-id and its
action-tracking-id), half live (groups with their tracker, every fifth with an Action interactions dataset).
Personalize's reads (DescribeDatasetGroup, DescribeEventTracker, ListEventTrackers, DescribeDataset) each limited on
its own, as in section 4; the function's timeout is the template's 300 s, and a run continues in a new invocation
when the next parameter might not fit.

{_table(SCALE_HEADER.format(n="parameters", stale="stale", done="swept"), rows)}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh interpreters per module for the cold start")
    parser.add_argument("--invokes", type=int, default=2, help="runs of each `make invoke` line (needs Docker)")
    parser.add_argument("--soak-examples", type=int, default=30, help="examples of the convergence soak")
    parser.add_argument("--soak-steps", type=int, default=25, help="steps of each example of the soak, at most")
    parser.add_argument("--container-runs", type=int, default=2, help="runs of each local run mode (needs Docker)")
    parser.add_argument("--only", nargs="+", type=int, metavar="SECTION", help="these sections again, in place")
    args = parser.parse_args(argv)
    makers: list[tuple[str, Callable[[], str]]] = [
        ("cold start", lambda: section_cold_start(args.runs)),
        ("burst", section_burst),
        ("sam local invoke", lambda: section_sam_local_invoke(args.invokes)),
        ("reconciler at scale", section_reconciler_scale),
        ("containers", lambda: section_containers(args.container_runs)),
        ("convergence soak", lambda: section_convergence(args.soak_examples, args.soak_steps)),
        ("sweeper at scale", section_sweeper_scale),
    ]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    old = RESULTS.read_text() if RESULTS.exists() else ""
    finished = old[old.index(FINISHED) :] if FINISHED in old else ""
    started = time.monotonic()
    if args.only:
        parts = re.split(r"(?m)^(?=## \d+\. |# Finished)", old)
        for number in sorted(set(args.only)):
            begun = time.monotonic()
            section = measure(*makers[number - 1]).rstrip("\n")
            when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.strip()}, {time.monotonic() - begun:.0f} s"
            section += f"\n\n(measured again alone with `python -m bench.run --only {number}`, {when})\n\n"
            index = next(i for i, part in enumerate(parts) if part.startswith(f"## {number}. "))
            parts[index] = section
        RESULTS.write_text("".join(parts))
        return
    sections = [measure(name, make) for name, make in makers]
    header = f"""# Benchmark results

- machine: {machine()}
- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.strip() or "unknown"}
- command: `make bench` (`python -m bench.run --runs {args.runs}`), {time.monotonic() - started:.0f} s

These are measurements, not tests: the test suite checks correctness only.
"""
    RESULTS.write_text(header + "\n" + "\n".join(sections) + "\n" + finished)
    print(f"bench: wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def measure(name: str, make: Callable[[], str]) -> str:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    return make()


if __name__ == "__main__":
    main()
