"""``gt.custom_gradient``, ``gt.recompute_grad`` and ``gt.stop_gradient``."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from gputensor.autodiff import nest, tape
from gputensor.framework import context
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor, wrap
from gputensor.framework.variable import Variable


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """Returns ``input`` as a tensor the tape treats as a constant: no gradient flows through it.

    Args:
      input: a Tensor or Variable (or tensor-like value).
      name: ignored (eager).

    Returns:
      A Tensor with the same value.

    >>> x = gt.constant(2.0)
    >>> with gt.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * gt.stop_gradient(x)
    >>> float(g.gradient(y, x))
    2.0
    """
    t = convert_to_tensor(input)
    if state.tapes:
        tape.notify_break("stop_gradient", "stop_gradient", (t,))
    # Tensors are immutable, so the new tensor shares the buffer; being a new object, it is
    # unknown to every tape.
    return wrap(t._data, t._device)


class _CustomOp:
    """A tape record whose gradient is the user's function (quacks like OpDef for the tape)."""

    __slots__ = ("name", "grad", "differentiable", "replayable")

    def __init__(self, name: str, grad: Callable) -> None:
        self.name = name
        self.grad = grad
        self.differentiable = True
        self.replayable = False  # the user's grad_fn is arbitrary Python


def _accepts_variables(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "variables" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def custom_gradient(f: Callable | None = None) -> Callable:
    """Decorator defining a function with its own gradient, as ``tf.custom_gradient``.

    ``f(*args)`` returns ``(result, grad_fn)``. ``grad_fn(*upstream)`` returns the
    gradients of the arguments (one per positional argument). When ``f`` reads
    trainable variables, ``grad_fn`` must accept a ``variables`` keyword and
    return ``(argument_gradients, variable_gradients)``.

    Inside a gt.function, ``grad_fn`` is traced too (a CustomGradient node, see
    graph/custom_gradient.py): a tape around the function's call, or around a
    loaded SavedModel's, differentiates with it.

    Args:
      f: the function to decorate.

    Returns:
      A function computing ``f``'s result, whose gradient is ``grad_fn``.

    Raises:
      TypeError: when ``f`` reads variables and ``grad_fn`` has no ``variables`` argument.
      ValueError: when ``grad_fn`` returns the wrong number of gradients.

    >>> @gt.custom_gradient
    ... def clip_grad(x):
    ...     def grad(dy):
    ...         return gt.clip_by_value(dy, -1.0, 1.0)
    ...     return x * 1.0, grad
    >>> x = gt.constant(3.0)
    >>> with gt.GradientTape() as g:
    ...     g.watch(x)
    ...     y = clip_grad(x) * 10.0
    >>> float(g.gradient(y, x))
    1.0
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not state.tapes:
            if state.graph is None:
                return f(*args, **kwargs)[0]
            # Traced into a gt.function: a CustomGradient node keeps grad_fn for the tapes
            # that record around the function's calls (graph/custom_gradient.py).
            graph = state.graph
            first = len(graph.operations)
            result, grad_fn = f(*args, **kwargs)
            # No tape records while tracing: the variables f read are its graph's reads.
            reads = [op.value for op in graph.operations[first:] if op.type == "ReadVariable"]
            variables = _unique_trainable(reads)
            if variables and not _accepts_variables(grad_fn):
                raise TypeError(
                    f"custom_gradient {f.__name__}: the function reads variables "
                    f"({', '.join(v.name for v in variables)}), so its grad_fn must accept a keyword "
                    "argument 'variables' and return (input_gradients, variable_gradients)"
                )
            from gputensor.graph import custom_gradient as graph_custom_gradient

            return graph_custom_gradient.emit(f.__name__, args, result, grad_fn, variables)
        with _watching_variables() as watched:
            result, grad_fn = f(*args, **kwargs)
        variables = _unique_trainable(watched)
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(
                f"custom_gradient {f.__name__}: the function reads variables "
                f"({', '.join(v.name for v in variables)}), so its grad_fn must accept a keyword "
                "argument 'variables' and return (input_gradients, variable_gradients)"
            )
        return _record(f.__name__, args, result, grad_fn, variables)

    return wrapper


@contextlib.contextmanager
def _watching_variables() -> Iterator[list]:
    """Collects the variables read inside the block (also while recording is paused)."""
    watched: list[Variable] = []
    tape.pause.watchers.append(watched)
    try:
        yield watched
    finally:
        tape.pause.watchers.remove(watched)


def _record(name: str, args: tuple, result: Any, grad_fn: Callable, variables: list) -> Any:
    """Records ``result = name(*args)`` on the active tapes with gradient ``grad_fn``."""
    arg_tensors = [_as_input(a) for a in args]
    flat_result = [convert_to_tensor(r) for r in nest.flatten(result)]
    # New tensor objects (sharing the buffers): the tape reaches the arguments only through them.
    outputs = tuple(wrap(r._data, r._device) for r in flat_result)
    n_args = len(arg_tensors)

    def grad(inputs: tuple, attrs: dict, outs: Any, *upstream: Any) -> tuple:
        upstream = [tape._zeros_like(o) if g is None else g for g, o in zip(upstream, outputs)]
        up_args = upstream if nest.is_nested(result) else upstream[:1]
        arg_grads, var_grads = call_grad_fn(grad_fn, up_args, variables, n_args, name)
        return tuple(arg_grads) + tuple(var_grads)

    op = _CustomOp(name, grad)
    # Reading the variables here (recording is on again) lets every tape watch them.
    inputs = tuple(arg_tensors) + tuple(v.value() for v in variables)
    context.recorder(op, inputs, {}, outputs[0] if len(outputs) == 1 else outputs)
    return nest.pack_sequence_as(result, list(outputs))


def _as_input(a: Any) -> Tensor:
    if isinstance(a, Variable):
        return a.value()
    if isinstance(a, Tensor):
        return a
    try:
        return convert_to_tensor(a)
    except (TypeError, ValueError):
        return convert_to_tensor(0.0)  # a non-tensor argument: nothing to differentiate


def _unique_trainable(variables: list[Variable]) -> list[Variable]:
    seen, out = set(), []
    for v in variables:
        if v._trainable and v._unique_id not in seen:
            seen.add(v._unique_id)
            out.append(v)
    return out


def recompute_grad(f: Callable) -> Callable:
    """Saves memory: runs ``f`` without recording and recomputes it during backprop.

    As ``tf.recompute_grad``: the forward pass keeps no intermediate tensors of
    ``f``; the gradient reruns ``f`` under a tape and differentiates that.

    Args:
      f: a function of tensors returning a tensor (or nested tensors); it may
        read trainable variables.

    Returns:
      A function with the same result and gradient as ``f``.
    """

    @functools.wraps(f)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if not state.tapes:
            return f(*args, **kwargs)
        with _watching_variables() as watched:
            tape.pause.depth += 1
            try:
                result = f(*args, **kwargs)
            finally:
                tape.pause.depth -= 1
        variables = _unique_trainable(watched)

        def grad(*upstream: Any, variables: list | None = None) -> Any:
            variables = variables or []
            inputs = [_as_input(a) for a in args]
            with tape.GradientTape() as t:
                t.watch([x for x in inputs if x._dtype.kind in "fc"])
                again = f(*args, **kwargs)
            grads = t.gradient(
                again,
                inputs + list(variables),
                output_gradients=list(upstream) if nest.is_nested(again) else upstream[0],
            )
            if variables:
                return grads[: len(inputs)], grads[len(inputs) :]
            return grads

        return _record(getattr(f, "__name__", "recompute_grad"), args, result, grad, variables)

    return inner


def call_grad_fn(
    grad_fn: Callable, upstream: Any, variables: list, n_args: int, name: str
) -> tuple[list, list]:
    """``grad_fn``'s gradients for the arguments and the variables, checked against their counts
    (one per positional argument, one per variable read): what a custom gradient's backward
    returns, eagerly (here) and traced (graph/custom_gradient.py)."""
    if variables:
        arg_grads, var_grads = grad_fn(*upstream, variables=variables)
        var_grads = list(nest.flatten(var_grads))
        if len(var_grads) != len(variables):
            raise ValueError(
                f"custom_gradient {name}: must return a gradient for each variable; got "
                f"{len(var_grads)} for {len(variables)} variables"
            )
    else:
        arg_grads, var_grads = grad_fn(*upstream), []
    arg_grads = list(arg_grads) if isinstance(arg_grads, (list, tuple)) else [arg_grads]
    if len(arg_grads) != n_args:
        raise ValueError(
            f"custom_gradient {name}: grad_fn returned {len(arg_grads)} gradients but the "
            f"function has {n_args} positional arguments; return one gradient (or None) per argument"
        )
    return arg_grads, var_grads
