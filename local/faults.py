"""One way to make a fault: a `Fault` says which AWS call goes wrong and how (an error code, throttling, a hang, an
outage), for how many calls or how long; `inject` makes it so.

Where it happens, as in AWS: Personalize's own faults in the emulator, so that every caller meets them (the
functions, a stack, a person); the other services' faults at the functions' clients, as their calls fail once
botocore has given up; an outage at the functions' clients, from the first call it meets; Lambda's in its Invoke
API, before the function runs (Step Functions names those `Lambda.<code>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    service: str  # "personalize", "ssm", "cloudtrail", ...; "lambda": the Invoke API itself
    operation: str | None = None  # "CreateEventTracker"; for "lambda", the function; None: any (outages only)
    error: str | None = None  # an error code (a 5xx one too); with `seconds`, an outage's kind (ReadTimeoutError)
    times: int = 1  # the next calls it hits
    seconds: float | None = None  # an outage: every call for so long (engine's clock), from the first it meets
    hang: float | None = None  # the call does what it does, then answers only after so many seconds
    per_second: float | None = None  # throttling: LimitExceededException past so many calls a second
    acted: bool = False  # an outage's calls: the service did what was asked before the answer was lost
    message: str = "Injected fault"


def inject(fault: Fault, engine: Any = None, emulator: Any = None) -> None:
    """Make it so, on the engine (a LocalEngine) or, for Personalize's own faults, on the emulator alone."""
    emulator = emulator if emulator is not None else getattr(engine, "emulator", None)
    operations = None if fault.operation is None else frozenset({fault.operation})
    if fault.seconds is not None:
        engine.outage(fault.service, fault.seconds, fault.error or "ReadTimeoutError", operations, fault.acted)
    elif fault.service == "lambda":
        engine.fail_lambda_api(fault.operation, fault.error, fault.times)
    elif fault.service == "personalize" and fault.hang is not None:
        emulator.hang(fault.operation, fault.hang, fault.times)
    elif fault.service == "personalize" and fault.per_second is not None:
        emulator.limit_rate(fault.operation, fault.per_second)
    elif fault.service == "personalize":
        emulator.inject_error(fault.operation, fault.error, fault.times, fault.message)
    else:
        engine.inject_aws_error(fault.service, fault.operation, fault.error, fault.times)


def clear(engine: Any = None, emulator: Any = None) -> None:
    """Every fault still to come, gone (and the calls hanging now answered)."""
    emulator = emulator if emulator is not None else getattr(engine, "emulator", None)
    if emulator is not None:
        emulator.release_hangs()
    if engine is not None:
        engine.clear_aws_errors()
