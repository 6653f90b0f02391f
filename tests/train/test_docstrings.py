"""The examples in gt.train's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

import gputensor as gt
import gputensor.train  # noqa: F401 - binds gt.train until the package wires it lazily


@pytest.mark.parametrize(
    "name",
    ["gputensor.train.checkpoint", "gputensor.train.checkpoint_manager", "gputensor.train.checkpoint_reader"],
)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
