"""Least privilege: the template's IAM, as SAM expands it, and what checkov and cfn-lint say."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from local.iam import arn_formats
from local.template import ROOT
from tests.template.test_least_privilege import MANAGED, ROLES, listed, statements_of


@dataclass
class Privilege:
    roles: int
    statements: int
    actions: int
    star_statements: int
    star_actions: list[str]
    managed_policies: list[str]
    checkov: str
    checkov_skips: int
    cfn_lint: str


def least_privilege() -> Privilege:
    statements = [s for role in ROLES.values() for s in statements_of(role)]
    actions = {a for s in statements for a in listed(s["Action"])}
    star = [s for s in statements if "*" in listed(s["Resource"])]
    star_actions = sorted({a for s in star for a in listed(s["Action"])})
    assert all(arn_formats(action) == () for action in star_actions)  # no resource type in AWS's reference
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if checkov.exists():
        run = subprocess.run(
            [checkov, "--config-file", ".checkov.yaml", "-o", "json"], cwd=ROOT, capture_output=True, text=True
        )
        summary = json.loads(run.stdout)["summary"]
        checkov_text = f"{summary['passed']} passed, {summary['failed']} failed"
    else:
        checkov_text = "not installed (run `make checkov`)"
    skips = sum(1 for line in (ROOT / ".checkov.yaml").read_text().splitlines() if line.strip().startswith("- CKV_"))
    lint = subprocess.run(
        [Path(sys.executable).parent / "cfn-lint", "template.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    return Privilege(
        roles=len(ROLES),
        statements=len(statements),
        actions=len(actions),
        star_statements=len(star),
        star_actions=star_actions,
        managed_policies=sorted(MANAGED),
        checkov=checkov_text,
        checkov_skips=skips,
        cfn_lint="no findings" if lint.returncode == 0 and not lint.stdout else lint.stdout.strip(),
    )


if __name__ == "__main__":
    print(least_privilege())
