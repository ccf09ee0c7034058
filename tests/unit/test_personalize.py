"""Dataset group ARNs and derived tracker names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from common.personalize import parse_dataset_group_arn, tracker_name
from tests.helpers import dataset_group_arn

NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*")


def name_of(dataset_group_name: str) -> str:
    parsed = parse_dataset_group_arn(dataset_group_arn(dataset_group_name))
    assert parsed is not None
    return tracker_name(parsed)


def test_a_short_name_gets_a_readable_tracker_name() -> None:
    assert name_of("retail") == "retail-tracker"


def test_names_that_fit_exactly_keep_the_suffix() -> None:
    assert name_of("a" * 55) == "a" * 55 + "-tracker"


def test_long_names_sharing_a_prefix_get_distinct_names() -> None:
    first, second = name_of("p" * 60 + "one"), name_of("p" * 60 + "two")
    assert first != second
    assert len(first) == len(second) == 63


def test_the_name_is_deterministic() -> None:
    assert name_of("x" * 63) == name_of("x" * 63)


@given(st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}", fullmatch=True))
def test_every_valid_dataset_group_name_gives_a_valid_tracker_name(name: str) -> None:
    derived = name_of(name)
    assert 1 <= len(derived) <= 63
    assert NAME.fullmatch(derived)


def test_arns_are_parsed_strictly() -> None:
    assert parse_dataset_group_arn("arn:aws:personalize:us-east-1:123456789012:dataset-group/x").name == "x"
    assert (
        parse_dataset_group_arn("arn:aws-cn:personalize:cn-north-1:123456789012:dataset-group/x").partition == "aws-cn"
    )
    for bad in (
        "arn:aws:personalize:us-east-1:123456789012:event-tracker/x",
        "arn:aws:personalize:us-east-1:12345:dataset-group/x",
        "arn:aws:personalize:us-east-1:123456789012:dataset-group/",
        "arn:aws:s3:::bucket",
    ):
        assert parse_dataset_group_arn(bad) is None
