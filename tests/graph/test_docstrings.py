"""The examples in the graph and print docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

import gputensor as gt


@pytest.mark.parametrize(
    "name",
    [
        "gputensor.graph.polymorphic_function",
        "gputensor.graph.tensor_spec",
        "gputensor.graph.control_flow",
        "gputensor.ops.logging_ops",
        "gputensor.graph.tensor_array",
        "gputensor.graph.map_fn",
        "gputensor.framework.scopes",
    ],
)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
