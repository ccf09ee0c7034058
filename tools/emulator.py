"""The Personalize emulator in a process of its own: `python -m tools.emulator --port 4599`, then
`export AWS_ENDPOINT_URL_PERSONALIZE=http://127.0.0.1:4599` (the benchmarks run it so, with its own GIL)."""

from __future__ import annotations

import argparse
import threading

from local.faults import Fault
from local.personalize_emulator import PersonalizeEmulator, Timing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Amazon Personalize")
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--dataset-group-seconds", type=float, default=2.0, help="time before a dataset group is ACTIVE"
    )
    parser.add_argument("--tracker-seconds", type=float, default=2.0, help="time before a tracker is ACTIVE")
    parser.add_argument("--rate-limit", type=float, help="requests a second per operation before LimitExceeded")
    parser.add_argument(
        "--rate-limited",
        default="CreateEventTracker,DescribeEventTracker",
        help="comma-separated operations that --rate-limit applies to",
    )
    args = parser.parse_args(argv)
    emulator = PersonalizeEmulator()
    emulator.dataset_group_timing = Timing(
        pending=args.dataset_group_seconds / 2, in_progress=args.dataset_group_seconds / 2
    )
    emulator.tracker_timing = Timing(pending=args.tracker_seconds / 2, in_progress=args.tracker_seconds / 2)
    if args.rate_limit is not None:
        for operation in args.rate_limited.split(","):
            emulator.faults.add(Fault("personalize", operation, per_second=args.rate_limit))
    url = emulator.start(args.port, args.host)
    print(f"Personalize emulator on {url}: export AWS_ENDPOINT_URL_PERSONALIZE={url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
