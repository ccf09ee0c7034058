"""Each check `.checkov.yaml` skips gives a reason; where the template can show the reason still holds, it does."""

from __future__ import annotations

import re

import yaml

from local.template import Template
from tests.helpers import ROOT

CONFIG = (ROOT / ".checkov.yaml").read_text()
SKIPPED = set(yaml.safe_load(CONFIG)["skip-check"])
TEMPLATE = Template()
FUNCTIONS = TEMPLATE.functions()
RULE_TARGETS = {rule.target for rule in TEMPLATE.rules()}


def test_every_skipped_check_has_its_reason_written_above_it() -> None:
    for check in SKIPPED:
        above = CONFIG[: CONFIG.index(f"- {check}")].rstrip().splitlines()[-1]
        assert above.strip().startswith("#"), check


def test_no_function_reserves_concurrency() -> None:  # CKV_AWS_115
    assert "CKV_AWS_115" in SKIPPED
    assert [name for name, f in FUNCTIONS.items() if "ReservedConcurrentExecutions" in f.properties] == []


def test_the_functions_invoked_asynchronously_by_a_rule_have_a_dead_letter_queue() -> None:  # CKV_AWS_116
    assert "CKV_AWS_116" in SKIPPED
    by_rule = RULE_TARGETS & set(FUNCTIONS)
    assert by_rule == {"TeardownFunction", "ReleaseTrackerFunction"}
    assert all("DeadLetterQueue" in FUNCTIONS[name].properties for name in by_rule)


def test_no_function_is_in_a_vpc() -> None:  # CKV_AWS_117
    assert "CKV_AWS_117" in SKIPPED
    assert [name for name, f in FUNCTIONS.items() if "VpcConfig" in f.properties] == []


def test_no_environment_variable_holds_a_secret() -> None:  # CKV_AWS_173
    assert "CKV_AWS_173" in SKIPPED
    for function in FUNCTIONS.values():
        for name in function.environment:
            assert not re.search(r"SECRET|PASSWORD|TOKEN|CREDENTIAL|TRACKING_ID", name), (function.logical_id, name)


def test_the_workflow_logs_no_execution_data() -> None:  # CKV_AWS_158: logs hold no secret
    assert "CKV_AWS_158" in SKIPPED
    machine = TEMPLATE.doc["Resources"][TEMPLATE.state_machine().logical_id]["Properties"]
    assert machine["Logging"]["IncludeExecutionData"] is False


def test_the_queues_use_sqs_managed_encryption() -> None:  # CKV_AWS_27
    assert "CKV_AWS_27" in SKIPPED
    queues = TEMPLATE.resources("AWS::SQS::Queue")
    assert queues and all(queue["Properties"]["SqsManagedSseEnabled"] is True for queue in queues.values())
