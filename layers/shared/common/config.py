"""The settings the template gives a function, checked when they are used.

A wrong setting fails the invocation with `Misconfigured` and a message that
names the variable and what it should hold, never with a traceback from
taking a malformed value apart.
"""

from __future__ import annotations

import re

from common.errors import Misconfigured

STATE_MACHINE_ARN = r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}"
ACCOUNT_ID_PATTERN = r"\d{12}"
PARTITION_PATTERN = r"aws[a-z-]*"

# `sam local invoke` resolves `!Ref` of a resource to its logical id, not to its ARN.
_LOGICAL_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_LOGICAL_ID_HINT = (
    " It looks like a logical id, which is what `sam local invoke` makes of `!Ref`: pass the real value with"
    " --env-vars (`make invoke` does)."
)


def checked(name: str, value: str, pattern: str, what: str) -> str:
    """The value of the environment variable `name` (read at import), or Misconfigured when it is not `what`."""
    if not re.fullmatch(pattern, value):
        hint = _LOGICAL_ID_HINT if _LOGICAL_ID.fullmatch(value) else ""
        raise Misconfigured(f"{name} is {value[:200]!r}, not {what}.{hint}")
    return value
