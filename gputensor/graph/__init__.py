"""Graph execution: ``gt.function`` traces Python functions into graphs and runs them.

Layers: `graph.py` (the IR, and the tracing device whose kernels add nodes),
`executor.py` (runs a graph), `polymorphic_function.py` (gt.function, signatures, concrete
functions), `tensor_spec.py` (gt.TensorSpec).
"""

from __future__ import annotations

from gputensor.graph.graph import Graph, Operation
from gputensor.graph.polymorphic_function import (
    ConcreteFunction,
    PolymorphicFunction,
    function,
    functions_run_eagerly,
    run_functions_eagerly,
)
from gputensor.graph.tensor_spec import TensorSpec

__all__ = [
    "ConcreteFunction",
    "Graph",
    "Operation",
    "PolymorphicFunction",
    "TensorSpec",
    "function",
    "functions_run_eagerly",
    "run_functions_eagerly",
]
