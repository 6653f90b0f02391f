"""The examples in the gt.keras layer and model docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

import gputensor as gt
from gputensor.keras.layers.base import reset_uids


@pytest.mark.parametrize(
    "name",
    [
        "gputensor.keras.layers.core",
        "gputensor.keras.layers.convolutional",
        "gputensor.keras.models",
        "gputensor.keras.variables",
    ],
)
def test_docstring_examples(name):
    reset_uids()  # the examples show Keras's automatic names (dense, ...)
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
