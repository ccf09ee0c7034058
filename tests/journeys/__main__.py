"""`make verify STACK=<stack name>`: the user journeys against a deployed stack, in the account and region of the
usual AWS credentials. Writes a report a person can attach to an issue.

    python -m tests.journeys --stack event-tracker-provisioner [--report verify-report.md]
    python -m tests.journeys --stack event-tracker-provisioner --dry-run    # the calls, rehearsed locally
    python -m tests.journeys --stack event-tracker-provisioner --clean      # what an interrupted run left

--dry-run needs no credentials: it runs the same journeys on the local engine and prints every AWS call they
make, as they would make it in the account.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tests.journeys import journeys
from tests.journeys.world import SUITE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.journeys", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="default: the AWS CLI's")
    parser.add_argument("--report", default="verify-report.md", help="where the report is written")
    parser.add_argument("--only", nargs="+", metavar="JOURNEY", help="these journeys only (by function name)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--dry-run", action="store_true", help="print the calls, rehearsed on the local engine")
    what.add_argument("--clean", action="store_true", help=f"delete every {SUITE}-* group, schema and stack")
    args = parser.parse_args(argv)
    if args.dry_run:
        return dry_run(args.stack, args.only)
    from tests.journeys.aws import aws_world

    world = aws_world(args.stack, args.region)
    if args.clean:
        for deleted in world.clean(everything_of_the_suite=True):
            print(f"deleted {deleted}")
        return 0
    print(f"journeys on stack {args.stack} ({world.personalize.meta.region_name}), run {world.run}", flush=True)
    outcomes = journeys.run(world, args.only)
    text = journeys.report(outcomes, f"stack {args.stack} in {world.personalize.meta.region_name}")
    Path(args.report).write_text(text)
    print(text, end="")
    print(f"written to {args.report}")
    return 0 if all(o.ok for o in outcomes) else 1


def dry_run(stack: str, only: list[str] | None) -> int:
    for name, value in {"AWS_ACCESS_KEY_ID": "dry-run", "AWS_SECRET_ACCESS_KEY": "dry-run"}.items():
        os.environ[name] = value  # the local engine's; no real credentials are read
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    for path in ("functions", "layers/shared"):  # the handlers' imports, as pytest's pythonpath gives them
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / path))
    import warnings

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the application's metrics: not calls
    warnings.simplefilter("ignore")
    from tests.journeys.local import local_world

    print(f"dry run for stack {stack}: the calls the journeys make, rehearsed on the local engine", flush=True)
    plan = Plan()
    with local_world(trace=plan.call) as world:
        outcomes = journeys.run(world, only, announce=plan.journey)
    plan.flush()
    print(f"rehearsal: {sum(o.ok for o in outcomes)} of {len(outcomes)} journeys passed on the local engine")
    for outcome in outcomes:
        if not outcome.ok:
            print(f"  {outcome.journey}: {outcome.error}")
    return 0 if all(o.ok for o in outcomes) else 1


class Plan:
    """Prints each call once, and a call repeated while polling once with its count."""

    def __init__(self) -> None:
        self.last, self.times = "", 0

    def call(self, line: str) -> None:
        if line == self.last:
            self.times += 1
            return
        self.flush()
        self.last, self.times = line, 1

    def journey(self, journey: object) -> None:
        self.flush()
        print(f"{getattr(journey, '__name__', journey)}: {getattr(journey, '__doc__', '')}", flush=True)

    def flush(self) -> None:
        if self.last:
            print(f"  {self.last}" + (f"   (polled: {self.times} times here)" if self.times > 1 else ""), flush=True)
        self.last, self.times = "", 0


if __name__ == "__main__":
    sys.exit(main())
