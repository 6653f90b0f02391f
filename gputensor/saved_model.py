"""``gt.saved_model``: save traced gt.functions and their variables; load and run them without the source."""

from __future__ import annotations

from gputensor.graph.saved_model import LoadOptions, SaveOptions, load, save

__all__ = ["LoadOptions", "SaveOptions", "load", "save"]
