"""``keras.utils.set_random_seed`` makes a Keras program repeat its draws, as Keras 3's."""

from __future__ import annotations

import random

import numpy as np
import pytest

import gputensor as gt

keras = gt.keras


def draws():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5)])
    out = model(np.ones((2, 3), np.float32), training=True)
    return (
        random.random(),
        np.random.rand(),
        model.get_weights()[0],
        out.numpy(),
        keras.random.normal((3,)).numpy(),
    )


def test_the_same_seed_repeats_every_draw():
    keras.utils.set_random_seed(11)
    first = draws()
    keras.utils.set_random_seed(11)
    again = draws()
    keras.utils.set_random_seed(12)
    other = draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_a_seed_that_is_not_an_int_is_refused_as_keras():
    with pytest.raises(ValueError, match=r"Expected `seed` argument to be an integer. Received: seed=1.5"):
        keras.utils.set_random_seed(1.5)
