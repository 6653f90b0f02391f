"""``gt.function``: trace a Python function into graphs, one per input signature, and run them.

A call looks up the *signature* of its arguments: per tensor its shape, dtype and
device, per variable its identity, per other Python value the value itself, and
the nesting of lists, tuples and dicts. A new signature traces the function (its
Python runs once, on symbolic tensors: see graph.py) into a `ConcreteFunction`;
later calls with that signature run the graph (executor.py). Python side effects
therefore happen at trace time only, as in TF.

Tracing specialises on the arguments' concrete shapes; an ``input_signature``
checks (and converts) the arguments against its TensorSpecs, whose None dims
accept any size, and each new size traces again.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from gputensor.autodiff import nest
from gputensor.backend import registry
from gputensor.framework.context import state
from gputensor.framework.device_scope import device as device_scope
from gputensor.framework.tensor import Tensor, array_on, convert_to_tensor, wrap
from gputensor.framework.variable import Variable
from gputensor.graph import executor, passes
from gputensor.graph.graph import Graph
from gputensor.graph.tensor_spec import TensorSpec

_RETRACE_WARNING_AFTER = 5
_eager = {"on": False}


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Makes every gt.function call its Python function directly (no tracing), for debugging."""
    _eager["on"] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether `run_functions_eagerly(True)` is in effect."""
    return _eager["on"]


class ConcreteFunction:
    """One traced graph of a gt.function, for one input signature.

    Attributes:
      graph: the `Graph` (``graph.get_operations()``, ``graph.as_text()``).
      structured_outputs: what the Python function returned, with symbolic tensors.
      structured_input_signature: the TensorSpecs (and Python values) it was traced for.
    """

    def __init__(self, graph: Graph, outputs: Any, signature: tuple, tensor_positions: list) -> None:
        self.graph = graph
        self.structured_outputs = outputs
        self.structured_input_signature = signature
        self._tensor_positions = tensor_positions  # flat argument positions fed to placeholders
        self._program = executor.Program(graph, *passes.optimize(graph.operations, graph.outputs))
        self._flat_outputs = nest.flatten(outputs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flat = nest.flatten((args, kwargs))
        return self._call_flat([flat[i] for i in self._tensor_positions])

    def _call_flat(self, tensors: list) -> Any:
        target = self.graph.target
        for i, spec in enumerate(self.graph.inputs):
            t = tensors[i]
            if not isinstance(t, Tensor):
                t = tensors[i] = convert_to_tensor(t)
            if tuple(t._data.shape) != spec.shape or t._data.dtype != spec.dtype:
                raise ValueError(
                    f"ConcreteFunction {self.graph.name}: argument {i} has shape {tuple(t._data.shape)} "
                    f"and dtype {t.dtype.name}; this function was traced for shape {spec.shape} and "
                    f"dtype {spec.dtype}. Call the gt.function instead, which traces again"
                )
            if t._device is not target:
                tensors[i] = wrap(array_on(t, target), target)
        if state.tapes:
            with device_scope(target):
                results = executor.run_recorded(self._program, tensors)
        else:
            results = executor.run(self._program, [t._data for t in tensors])
        it = iter(results)
        flat = [next(it) if _is_symbolic(o, self.graph) else o for o in self._flat_outputs]
        return nest.pack_sequence_as(self.structured_outputs, flat)


def _is_symbolic(value: Any, graph: Graph) -> bool:
    return isinstance(value, Tensor) and value._device is graph.device


class PolymorphicFunction:
    """A Python function traced into a graph per input signature, as ``tf.function``'s result."""

    def __init__(
        self,
        python_function: Callable,
        input_signature: Any = None,
        reduce_retracing: bool = False,
        jit_compile: Any = None,
        name: str | None = None,
        autograph: bool = True,
    ) -> None:
        self._python_function = python_function
        self._autograph = autograph
        self._converted: Callable | None = None
        self._input_signature = None if input_signature is None else list(input_signature)
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile
        self._name = name or getattr(python_function, "__name__", "function")
        self._concrete: dict[Any, ConcreteFunction] = {}
        self._tracing_count = 0
        self._variables_made = False
        self._last_key: tuple | None = None
        self._warned = False
        self._bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._keep: list[Variable] = []
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self) -> Callable:
        return self._python_function

    @property
    def input_signature(self) -> Any:
        return self._input_signature

    def experimental_get_tracing_count(self) -> int:
        """How many times the Python function has been traced."""
        return self._tracing_count

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # A method: one PolymorphicFunction per instance, tracing with ``self`` bound.
        if instance is None:
            return self
        # Kept on the instance: the bound function holds the instance (its method), so a
        # cache here would keep every instance alive.
        store = getattr(instance, "__dict__", None)
        key = f"_gt_function_{id(self)}"
        bound = store.get(key) if store is not None else self._bound.get(instance)
        if bound is None:
            method = self._python_function.__get__(instance, owner)
            bound = PolymorphicFunction(
                method,
                self._input_signature,
                self._reduce_retracing,
                name=self._name,
                autograph=self._autograph,
            )
            if store is not None:
                store[key] = bound
            else:
                self._bound[instance] = bound
        return bound

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _eager["on"]:
            return self._python_function(*args, **kwargs)
        if state.graph is not None:
            # Inside another function's trace: inlined into that graph.
            return self._traced_function()(*args, **kwargs)
        args, kwargs = self._checked(args, kwargs)
        concrete, flat = self._concrete_for(args, kwargs)
        return concrete._call_flat([flat[i] for i in concrete._tensor_positions])

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The ConcreteFunction for these arguments (TensorSpecs or tensors), traced if new."""
        if not args and not kwargs and self._input_signature is not None:
            args = tuple(self._input_signature)
        args, kwargs = _specs_to_tensors(args, kwargs)
        return self._concrete_for(*self._checked(args, kwargs))[0]

    # ------------------------------------------------------------- internals
    def _traced_function(self) -> Callable:
        """What a trace runs: the function converted by AutoGraph (once), or as it is."""
        if not self._autograph:
            return self._python_function
        if self._converted is None:
            from gputensor.graph.autograph import convert

            self._converted = convert(self._python_function)
        return self._converted

    def _checked(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if self._input_signature is None:
            return args, kwargs
        if kwargs or len(args) != len(self._input_signature):
            raise TypeError(
                f"{self._name}: called with {len(args)} positional and {len(kwargs)} keyword arguments; "
                f"its input_signature has {len(self._input_signature)} (positional only)"
            )
        return tuple(
            self._conform(a, spec, i) for i, (a, spec) in enumerate(zip(args, self._input_signature))
        ), {}

    def _conform(self, value: Any, spec: Any, i: int) -> Any:
        """``value`` as ``spec`` says: a TensorSpec takes a whole (converted) tensor; lists,
        tuples and dicts of specs take the same structure."""
        if isinstance(spec, TensorSpec):
            t = value if isinstance(value, (Tensor, Variable)) else convert_to_tensor(value, dtype=spec.dtype)
            if not spec.is_compatible_with(t):
                raise ValueError(
                    f"{self._name}: argument {i} ({t.dtype.name}{list(t.shape)}) does not match its "
                    f"input_signature {spec}"
                )
            return t
        if isinstance(spec, dict):
            return {k: self._conform(value[k], s, i) for k, s in spec.items()}
        if isinstance(spec, (list, tuple)):
            return type(spec)(self._conform(v, s, i) for v, s in zip(value, spec))
        return value

    def _concrete_for(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        flat = nest.flatten((args, kwargs))
        key = _signature((args, kwargs), flat)
        concrete = self._concrete.get(key)
        if concrete is None:
            self._warn_retracing(key)
            concrete = self._trace(args, kwargs, flat, key)
            self._concrete[key] = concrete
            # A key names variables by id: keeping them alive keeps the ids unique.
            self._keep.extend(x for x in flat if isinstance(x, Variable))
        self._last_key = key
        return concrete, flat

    def _trace(self, args: tuple, kwargs: dict, flat: list, key: tuple) -> ConcreteFunction:
        tensors = [i for i, x in enumerate(flat) if isinstance(x, Tensor)]
        target = flat[tensors[0]]._device if tensors else (state.device or registry.default_device())
        graph = Graph(target, name=f"{self._name}_{self._tracing_count}")
        symbolic = list(flat)
        for i in tensors:
            symbolic[i] = wrap(graph.placeholder(tuple(flat[i]._data.shape), flat[i].dtype), graph.device)
        sym_args, sym_kwargs = nest.pack_sequence_as((args, kwargs), symbolic)
        fn = self._traced_function()
        with graph.building():
            outputs = fn(*sym_args, **sym_kwargs)
        self._tracing_count += 1
        if graph.created_variables and self._variables_made:
            raise ValueError(
                f"{self._name}: the function created variables on a trace after its first one "
                f"({', '.join(v.name for v in graph.created_variables)}). gt.function supports only "
                "variables created on the first call: create them outside, or once (e.g. in __init__ "
                "or behind `if self.v is None`)"
            )
        self._variables_made = self._variables_made or bool(graph.created_variables)
        flat_out = nest.flatten(outputs)
        graph.outputs = [o._data for o in flat_out if _is_symbolic(o, graph)]
        signature = nest.pack_sequence_as(
            (args, kwargs),
            [TensorSpec.from_tensor(x) if isinstance(x, Tensor) else x for x in flat],
        )
        return ConcreteFunction(graph, outputs, signature, tensors)

    def _warn_retracing(self, key: tuple) -> None:
        if self._warned or self._tracing_count < _RETRACE_WARNING_AFTER or self._last_key is None:
            return
        self._warned = True
        changed = [
            f"argument {i} ({_describe(old)} -> {_describe(new)})"
            for i, (old, new) in enumerate(zip(self._last_key[1], key[1]))
            if old != new
        ]
        what = "; ".join(changed) if changed else "the structure of the arguments"
        warnings.warn(
            f"{self._name} has been traced {self._tracing_count + 1} times; the last call changed "
            f"{what}. Each new shape, dtype or Python value traces again: pass tensors instead of "
            "Python values, or give an input_signature with None for the dims that vary",
            stacklevel=4,
        )

    def __repr__(self) -> str:
        return f"<gt.function {self._name}: {self._tracing_count} traces>"


def _signature(structure: Any, flat: list) -> tuple:
    parts = []
    for x in flat:
        if isinstance(x, Variable):
            parts.append(("variable", id(x), x.name))  # the function keeps x alive (_keep)
        elif isinstance(x, Tensor):
            parts.append(("tensor", tuple(x._data.shape), x.dtype, id(x._device)))
        else:
            try:
                hash(x)
            except TypeError:
                raise TypeError(
                    f"gt.function: an argument of type {type(x).__name__} is not hashable, so calls "
                    "cannot be told apart by it; pass a tensor, or a hashable Python value"
                ) from None
            parts.append(("python", type(x), x))
    return (repr(nest.pack_sequence_as(structure, [None] * len(flat))), tuple(parts))


def _describe(part: tuple) -> str:
    if part[0] == "tensor":
        return f"{part[2].name}{list(part[1])}"
    if part[0] == "variable":
        return f"variable {part[2]}"
    return repr(part[2])


def _specs_to_tensors(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """TensorSpecs (with every dim known) as zero tensors, so get_concrete_function can trace them."""
    from gputensor.ops.array_ops import zeros

    def convert(x: Any) -> Any:
        if isinstance(x, TensorSpec):
            if not x.shape.is_fully_defined():
                raise ValueError(
                    f"get_concrete_function: {x} has unknown dims; gputensor traces one graph per "
                    "concrete shape, so give every dim (or call with tensors)"
                )
            return zeros(x.shape.as_list(), x.dtype)
        return x

    flat = [convert(x) for x in nest.flatten((args, kwargs))]
    return nest.pack_sequence_as((args, kwargs), flat)


def function(
    func: Callable | None = None,
    input_signature: Any = None,
    autograph: bool = True,
    jit_compile: Any = None,
    reduce_retracing: bool = False,
    experimental_implements: Any = None,
    experimental_autograph_options: Any = None,
    experimental_attributes: Any = None,
    experimental_relax_shapes: Any = None,
    experimental_compile: Any = None,
    experimental_follow_type_hints: Any = None,
) -> Any:
    """Compiles a function into graphs that run without per-op Python, as ``tf.function``.

    Usable as ``@gt.function``, ``@gt.function(input_signature=...)`` or
    ``gt.function(fn)``. Each call with a new input signature (tensor shapes and
    dtypes, Python values, variables by identity) traces ``func`` once; later calls
    run the graph. Python side effects run at trace time only.

    Args:
      func: the function to compile.
      input_signature: TensorSpecs the positional arguments must match (None dims
        match any size).
      autograph: whether AutoGraph converts Python ``if``/``while``/``for`` on tensors
        (in ``func`` and the user functions it calls) into graph control flow
        (docs/graphs.md, "AutoGraph"). Python control flow on Python values runs as
        Python either way.
      jit_compile, reduce_retracing, experimental_*: accepted for TF compatibility;
        see docs/graphs.md for what this version does with them.

    Returns:
      A `PolymorphicFunction` (or a decorator making one when ``func`` is None).

    >>> @gt.function
    ... def f(x):
    ...     return x * x + 1.0
    >>> float(f(gt.constant(2.0)))
    5.0
    """
    if func is None:
        return functools.partial(
            function,
            input_signature=input_signature,
            autograph=autograph,
            jit_compile=jit_compile,
            reduce_retracing=reduce_retracing,
        )
    return PolymorphicFunction(func, input_signature, reduce_retracing, jit_compile, autograph=autograph)
