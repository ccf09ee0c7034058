"""`make test` runs this tier with `-n auto`: six workers where a Docker engine answers, and none where there is
nothing to run but skips (six workers would each start up for nothing)."""

from __future__ import annotations

import pytest

from tests.container.test_sam_local_invoke import docker_engine


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return 6 if docker_engine() is None else 0
