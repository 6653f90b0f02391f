"""Gradients of the array ops."""

from __future__ import annotations
