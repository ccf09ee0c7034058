"""Which dataset groups the application leaves alone."""

from __future__ import annotations

import re

SKIP_TAG = "event-tracker-provisioner:skip"


def compile_exclude_pattern(pattern: str) -> re.Pattern[str] | None:
    """The ExcludeNamePattern parameter as a regex; empty means no exclusion."""
    return re.compile(pattern) if pattern else None


def opt_out_reason(name: str, tags: dict[str, str], exclude: re.Pattern[str] | None) -> str | None:
    """Why the dataset group is skipped, or None when it is provisioned."""
    if tags.get(SKIP_TAG, "").strip().lower() == "true":
        return f"dataset group {name} is tagged {SKIP_TAG}=true"
    if exclude is not None and exclude.fullmatch(name):
        return f"dataset group name {name} matches ExcludeNamePattern {exclude.pattern!r}"
    return None
