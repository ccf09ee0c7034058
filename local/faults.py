"""One way to make a fault: a `Fault` says which AWS call goes wrong and how (an error code, throttling, a hang, an
outage), for how many calls or how long; `inject` makes it so, `clear` undoes what is still to come.

Where it happens, as in AWS: Personalize's own faults in the emulator, so that every caller meets them (the
functions, a stack, a person); the other services' faults at the functions' clients, as their calls fail once
botocore has given up; an outage at the functions' clients, from the first call it meets; Lambda's in its Invoke
API, before the function runs (Step Functions names those `Lambda.<code>`). Each side keeps its `Faults` and asks
it, at every call, which fault the call meets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

# The 5xx codes AWS answers (with their HTTP status), and botocore's errors for a call that got no answer.
SERVER_ERRORS = {"InternalServerError": 500, "InternalFailure": 500, "ServiceUnavailable": 503}
NO_ANSWER = {
    "ReadTimeoutError": ReadTimeoutError,
    "ConnectTimeoutError": ConnectTimeoutError,
    "EndpointConnectionError": EndpointConnectionError,
    "ConnectionClosedError": ConnectionClosedError,
}


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

    @property
    def code(self) -> str:
        """The error code the service answers (an outage without one: ServiceUnavailable)."""
        return self.error or "ServiceUnavailable"

    @property
    def status(self) -> int:
        """Its HTTP status: a 5xx for a server error, else 400."""
        return SERVER_ERRORS.get(self.code, 400)

    def client_error(self, service: str, operation: str, region: str) -> Exception:
        """The error the caller's botocore raises once its attempts are spent."""
        if self.error in NO_ANSWER:
            return NO_ANSWER[self.error](endpoint_url=f"https://{service}.{region}.amazonaws.com/")
        metadata = {"HTTPStatusCode": self.status}
        error = {"Code": self.code, "Message": self.message}
        return ClientError({"Error": error, "ResponseMetadata": metadata}, operation)


@dataclass
class _Pending:
    fault: Fault
    left: int
    until: float | None = None  # an outage's end, once a call has met it
    recent: deque[float] = field(default_factory=deque)  # throttling: the calls of the last second


class Faults:
    """The faults one side (the engine's clients and Lambda API, or the emulator) still has to give."""

    def __init__(self, clock_scale: float = 1.0) -> None:
        self.clock_scale = clock_scale  # an outage's seconds are the engine's clock's
        self.hits: list[str] = []  # `<service>:<operation>` of every call a fault answered
        self.throttled = 0
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(_Pending(fault, fault.times))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def meet(self, service: str, operation: str, hangs: bool = False) -> Fault | None:
        """The fault this call meets, if any: a hang (`hangs`) or any other. Counted against its `times`; an outage
        runs from the first call it meets; throttling lets `per_second` calls a second through."""
        now = time.monotonic()
        with self._lock:
            for pending in self._pending:
                fault = pending.fault
                if (
                    fault.service != service
                    or fault.operation not in (None, operation)
                    or (fault.hang is None) == hangs
                ):
                    continue
                if fault.seconds is not None:
                    pending.until = pending.until or now + fault.seconds * self.clock_scale
                    if now >= pending.until:
                        continue
                elif fault.per_second is not None:
                    while pending.recent and pending.recent[0] <= now - 1.0:
                        pending.recent.popleft()
                    if len(pending.recent) < fault.per_second:
                        pending.recent.append(now)
                        continue
                    self.throttled += 1
                elif pending.left <= 0:
                    continue
                else:
                    pending.left -= 1
                self.hits.append(f"{service}:{operation}")
                return fault
        return None


def inject(fault: Fault, engine: Any = None, emulator: Any = None) -> None:
    """Make it so, on the engine (a LocalEngine) or, for Personalize's own faults, on the emulator alone."""
    emulator = emulator if emulator is not None else getattr(engine, "emulator", None)
    if fault.service == "personalize" and fault.seconds is None:
        emulator.faults.add(fault)
    else:
        engine.faults.add(fault)


def clear(engine: Any = None, emulator: Any = None) -> None:
    """Every fault still to come, gone (and the calls hanging now answered)."""
    emulator = emulator if emulator is not None else getattr(engine, "emulator", None)
    if emulator is not None:
        emulator.clear_faults()
    if engine is not None:
        engine.faults.clear()
