"""``gt.onnx``: export gt.functions as ONNX models (needs the ``onnx`` package: ``pip install gputensor[onnx]``)."""

from __future__ import annotations

from gputensor.graph.onnx_export import OPSET, export

__all__ = ["OPSET", "export"]
