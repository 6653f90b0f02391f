"""The examples in the autodiff and Module docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

import gputensor as gt

MODULES = [
    "gputensor.autodiff.tape",
    "gputensor.autodiff.custom_gradient",
    "gputensor.autodiff.indexed_slices",
    "gputensor.autodiff.forwardprop",
    "gputensor.module",
    "gputensor.test_util",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
