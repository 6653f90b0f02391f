"""``gt.custom_gradient`` in traced graphs: the CustomGradient node.

Eagerly, a custom_gradient records one tape op whose gradient is the user's
``grad_fn``. While a gt.function is traced, tapes outside see its call, not its
tracing, so that record cannot be made then. Instead the forward ops are traced as
usual and their results pass through a CustomGradient node, which holds the
``grad_fn`` traced into a graph of its own (the upstream gradients are its
placeholders; the forward tensors it reads are captured inputs of the node).

Running the function, the node passes its inputs through (no kernel, no copy).
When a tape records around the call (the executor then runs nodes op by op, see
executor.run_recorded), the node records one op on the tapes from the function's
arguments to its outputs, whose gradient replays the traced ``grad_fn`` (through
`execute`, so an outer tape differentiates it again). The forward ops between
them are recorded too but lead nowhere: the node's outputs are new tensors.

A custom_gradient that reads trainable variables has a ``grad_fn`` taking
``variables``: the node reads them once more after the function's ops, as
further arguments, so the recorded op reaches them and ``grad_fn``'s variable
gradients flow to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gputensor.autodiff import nest
from gputensor.autodiff.custom_gradient import call_grad_fn
from gputensor.framework import context, dtypes
from gputensor.framework.context import state
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, array_on, wrap
from gputensor.graph import executor

NODE = "CustomGradient"


class CustomGradient:
    """What a CustomGradient node runs and how it differentiates.

    The node's inputs are ``(*results, *arguments, *captures)``; its outputs are the
    results. ``backward`` takes the upstream gradients (one per result) and then the
    captures at ``backward_at``; it outputs the gradient of each argument whose
    ``connected`` flag is set (the others' are None).
    """

    def __init__(
        self,
        name: str,
        backward: executor.Program,
        n_out: int,
        n_args: int,
        backward_at: list,
        connected: list,
    ) -> None:
        self.name = name
        self.backward = backward
        self.n_out = n_out
        self.n_args = n_args
        self.backward_at = list(backward_at)
        self.connected = [bool(c) for c in connected]
        self.specs = [Spec(s.shape, dtypes.from_numpy(s.dtype)) for s in backward.graph.inputs[:n_out]]

    def pure(self) -> CustomGradient:
        return self

    def programs(self) -> list:
        return [self.backward]

    def run_arrays(self, *arrays: Any) -> Any:
        """Running the function: the results pass through."""
        return arrays[0] if self.n_out == 1 else tuple(arrays[: self.n_out])

    def run_tensors(self, tensors: list, replaying: bool = False) -> Any:
        """Under a recording tape: new output tensors, recorded with the custom gradient."""
        n_out, n_args = self.n_out, self.n_args
        results = tensors[:n_out]
        args = tuple(tensors[n_out : n_out + n_args])
        caps = tensors[n_out + n_args :]
        graph = state.graph
        if graph is not None and any(_symbolic(t) for t in tensors):
            # Traced again (a tape inside another function around this one's call): a node there.
            node = graph._node(NODE, None, tuple(array_on(t, graph.device) for t in tensors), {}, self.specs)
            node.value, node.kernel = self, self.run_arrays
            outs = tuple(wrap(s, graph.device) for s in node.outputs)
        else:
            outs = tuple(wrap(r._data, r._device) for r in results)
        if state.tapes and context.recorder is not None:
            from gputensor.autodiff.custom_gradient import _CustomOp

            op = _CustomOp(self.name, self._gradient(outs, caps))
            context.recorder(op, args, {}, outs[0] if n_out == 1 else outs)
        return outs[0] if n_out == 1 else outs

    def _gradient(self, outs: tuple, caps: list) -> Callable:
        def grad(inputs: tuple, attrs: dict, outputs: Any, *upstream: Any) -> tuple:
            from gputensor.autodiff.tape import _zeros_like
            from gputensor.graph.control_flow import replay

            ups = [_zeros_like(o) if g is None else g for g, o in zip(upstream, outs)]
            found = iter(replay(self.backward, ups + [caps[i] for i in self.backward_at]))
            return tuple(next(found) if c else None for c in self.connected)

        return grad


def _symbolic(t: Tensor) -> bool:
    from gputensor.graph.graph import Symbol

    return type(t._data) is Symbol


def emit(name: str, args: tuple, result: Any, grad_fn: Callable, variables: list) -> Any:
    """Traces ``grad_fn`` and adds the CustomGradient node for ``result = name(*args)`` to the
    graph being built; returns ``result`` as the node's outputs.

    ``variables`` (the trainable variables the function read) count as further arguments:
    the node reads each once more, so a tape around the call reaches them through it, and
    ``grad_fn(*upstream, variables=variables)`` returns their gradients too.
    """
    from gputensor.autodiff.custom_gradient import _as_input
    from gputensor.framework.tensor import convert_to_tensor
    from gputensor.graph.control_flow import _Branch, _positions

    graph = state.graph
    arg_tensors = [_as_input(a) for a in args]
    flat_result = [convert_to_tensor(r) for r in nest.flatten(result)]
    n_args = len(arg_tensors)
    connected: list[bool] = []

    def backward(*upstream: Tensor) -> list:
        up_args = upstream if nest.is_nested(result) else upstream[:1]
        grads, var_grads = call_grad_fn(grad_fn, up_args, variables, n_args, name)
        grads += var_grads
        connected[:] = [g is not None for g in grads]
        return [g for g in grads if g is not None]

    specs = [(tuple(r._data.shape) if r._data.shape is not None else None, r.dtype) for r in flat_result]
    branch = _Branch(graph, backward, specs, f"{name}_grad")
    captures = [outer for outer, _ in branch.graph.captures]
    reads = [graph.read_variable(v) for v in variables]
    value = CustomGradient(
        name,
        branch.program,
        len(flat_result),
        n_args + len(variables),
        _positions(branch.program, captures, len(specs)),
        connected,
    )
    inputs = [array_on(t, graph.device) for t in flat_result + arg_tensors] + reads + captures
    node = graph._node(NODE, None, tuple(inputs), {}, value.specs)
    node.value, node.kernel = value, value.run_arrays
    outs = [wrap(s, graph.device) for s in node.outputs]
    return nest.pack_sequence_as(result, outs)
