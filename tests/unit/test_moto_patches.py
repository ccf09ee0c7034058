"""The moto patches of the local engine were written for one moto version: a new one must be read again."""

from __future__ import annotations

import re
from importlib.metadata import version

from local.moto_patches import MOTO_VERSION, PATCHED
from tests.helpers import ROOT


def test_the_installed_and_pinned_moto_is_the_one_the_patches_were_written_for() -> None:
    pinned = re.search(r"^moto==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), flags=re.M)
    assert pinned is not None and pinned.group(1) == MOTO_VERSION, "read local/moto_patches.py again, then move it"
    assert version("moto") == MOTO_VERSION


def test_every_patched_attribute_is_still_there() -> None:
    for owner, attribute in PATCHED:
        assert hasattr(owner, attribute), f"{owner.__name__}.{attribute}"
