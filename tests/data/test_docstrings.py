"""The examples in gt.data's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

import gputensor as gt
import gputensor.data  # noqa: F401 - binds gt.data until the package wires it lazily


@pytest.mark.parametrize("name", ["gputensor.data.dataset"])
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
