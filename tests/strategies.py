"""Generated inputs for the workflow: JSON values of every shape, and mutations of the real event."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.helpers import dataset_group_arn, event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=12,
)
KEYS = ["source", "detail-type", "account", "region", "detail", "datasetGroupArn"]
DETAIL_KEYS = ["eventSource", "eventName", "errorCode", "requestParameters", "responseElements"]


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    sample = json.loads(json.dumps(event("create-dataset-group.json")))
    for _ in range(draw(st.integers(1, 4))):
        target = sample if draw(st.booleans()) else sample.get("detail")
        if not isinstance(target, dict):
            target = sample
        key = draw(st.sampled_from(KEYS if target is sample else DETAIL_KEYS))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return sample


generated_inputs = st.one_of(
    json_values,
    mutated_events(),
    st.builds(lambda arn: {"datasetGroupArn": arn}, json_values),
    st.builds(lambda name: {"datasetGroupArn": dataset_group_arn(name)}, st.text(max_size=70)),
)
