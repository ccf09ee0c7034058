"""The README's application sample, run against the stack's policy for applications (output ApplicationPolicyArn).

Every AWS call the sample makes is authorized, as the local engine authorizes the functions' calls, against
ApplicationPolicy as CloudFormation resolves it; SSM answers from moto, personalize-events is answered here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from local.iam import allowed, request_resources
from local.template import Template
from tests.helpers import ACCOUNT, REGION, ROOT

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TRACKER = f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/0a1b2c3d"


def readme_sample() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Reading the IDs in an application", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


def application_policy(**overrides: Any) -> dict[str, Any]:
    template = Template(overrides=overrides)
    [policy] = template.resources("AWS::IAM::ManagedPolicy").values()
    return template.resolve(policy["Properties"])["PolicyDocument"]


class Calls:
    """The sample's AWS calls, each authorized against `policy` (AccessDenied otherwise); personalize-events is
    answered here (moto has no such service), the others by moto."""

    def __init__(self, policy: dict[str, Any]) -> None:
        self.policy, self.made, self.denied = policy, [], []

    def authorize(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        """before-parameter-build: the call's own parameters, before botocore serializes them."""
        for action, resource in request_resources(
            model.service_model.service_name, model.name, params, REGION, ACCOUNT
        ):
            self.made.append((action, resource))
            if not allowed([self.policy], action, resource):
                self.denied.append((action, resource))
                raise PermissionError(f"AccessDenied: {action} on {resource}")

    @staticmethod
    def answer(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """before-call of personalize-events: what PutEvents and PutActionInteractions answer (nothing)."""
        return AWSResponse("https://personalize-events", 200, {}, None), {}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, and a default boto3 session of the test's own: the sample's clients come from it, and the handlers the
    test registers on it must not reach later tests."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield


def run_sample(calls: Calls, parameters: dict[str, str]) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    for name, value in parameters.items():
        ssm.put_parameter(Name=name, Value=value, Type="String")
    boto3.setup_default_session(region_name=REGION)
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.*.*", calls.authorize)  # type: ignore[union-attr]
    boto3.DEFAULT_SESSION.events.register("before-call.personalize-events.*", calls.answer)  # type: ignore[union-attr]
    exec(compile(readme_sample(), "README.md", "exec"), {})


def test_the_sample_sends_both_kinds_of_event_with_the_policy(aws) -> None:
    calls = Calls(application_policy())
    run_sample(
        calls,
        {"/personalize/my-group/tracking-id": "t-1", "/personalize/my-group/action-tracking-id": "a-1"},
    )
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/personalize/my-group"
    assert calls.made == [
        ("ssm:GetParameters", f"{parameter}/tracking-id"),
        ("ssm:GetParameters", f"{parameter}/action-tracking-id"),
        ("personalize:PutEvents", "*"),
        ("personalize:PutActionInteractions", "*"),
    ]
    assert calls.denied == []


def test_a_group_without_an_action_interactions_dataset_sends_item_events_only(aws) -> None:
    calls = Calls(application_policy())
    run_sample(calls, {"/personalize/my-group/tracking-id": "t-1"})
    assert [action for action, _ in calls.made][-1] == "personalize:PutEvents"
    assert calls.denied == []


def test_a_group_not_provisioned_yet_says_so(aws) -> None:
    with pytest.raises(LookupError, match="my-group has no tracking ID yet"):
        run_sample(Calls(application_policy()), {})


def test_the_policy_reads_only_under_the_prefix() -> None:
    policy = application_policy(ParameterPrefix="/ml/recs")
    assert allowed([policy], "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ml/recs/g/tracking-id")
    assert not allowed([policy], "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/personalize/g/x")
    assert not allowed([policy], "ssm:PutParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ml/recs/g/x")


def test_kms_decrypt_on_the_key_only_when_one_is_set() -> None:
    assert not allowed([application_policy()], "kms:Decrypt", KEY)  # the AWS managed key needs no grant
    with_key = application_policy(ParameterType="SecureString", KmsKeyId=KEY)
    assert allowed([with_key], "kms:Decrypt", KEY)
    assert not allowed([with_key], "kms:Decrypt", KEY.replace("1234abcd", "99999999"))


def test_put_events_scoped_to_a_tracker_would_be_denied() -> None:
    """Why "*": IAM authorizes PutEvents on "*" only (no resource type in AWS's reference)."""
    assert request_resources("personalize-events", "PutEvents", {"trackingId": "t"}, REGION, ACCOUNT) == [
        ("personalize:PutEvents", "*")
    ]
    scoped = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "personalize:PutEvents",
                                                      "Resource": TRACKER}]}  # fmt: skip
    assert not allowed([scoped], "personalize:PutEvents", "*")
    assert allowed([application_policy()], "personalize:PutEvents", "*")
