"""Tests of the op families."""
