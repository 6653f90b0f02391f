"""Runs a guide module's blocks with ``gt`` and compares each with its Keras fixture."""

from __future__ import annotations

import numpy as np

import gputensor as gt
from gputensor.keras.layers.base import reset_uids
from tests.keras.guides._common import assert_matches, load


def run_block(guide: str, module, name: str) -> dict:
    """Runs ``module.<name>(gt, gt.keras, np)`` on fresh layer names (Keras's clear_session)
    and asserts it equals what Keras computed; returns the block's values."""
    reset_uids()
    got = getattr(module, name)(gt, gt.keras, np)
    exact = {k: v for k, v in got.items() if not k.startswith("_")}  # "_": random, checked apart
    assert_matches(exact, load(guide)[name], path=f"{guide}.{name}")
    return got


def block_names(module) -> list[str]:
    return sorted(n for n in dir(module) if n.startswith("block_"))
