"""``gt.function``: trace a Python function into graphs, one per input signature, and run them.

A call looks up the *signature* of its arguments: per tensor its shape, dtype and
device, per variable its identity, per other Python value the value itself, and
the nesting of lists, tuples and dicts. A new signature traces the function (its
Python runs once, on symbolic tensors: see graph.py) into a `ConcreteFunction`;
later calls with that signature run the graph (executor.py). Python side effects
therefore happen at trace time only, as in TF.

A tensor's shape in the signature may have None dims: an ``input_signature``
gives its TensorSpecs' shapes (one trace serves every size its None dims
accept), ``get_concrete_function(gt.TensorSpec([None, 3]))`` traces for the
spec's shape, and with ``reduce_retracing=True`` a call whose shapes differ from
every earlier trace traces for the dims they share, the others None (TF's
``most_specific_common_supertype``). A call runs the most specific traced graph
whose signature accepts it. While tracing, ``x.shape`` has those None dims and
``gt.shape(x)`` is a graph node giving the shape at run time.

Arguments and results are flattened with ``expand_composites=True``, as TF's: a
``gt.IndexedSlices`` (a gather's gradient) travels as its values and indices, its
dense shape staying in the structure, and comes back as an eager IndexedSlices.
"""

from __future__ import annotations

import functools
import inspect
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from gputensor.autodiff import nest
from gputensor.autodiff.indexed_slices import IndexedSlices
from gputensor.backend import registry
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.device_scope import device as device_scope
from gputensor.framework.tensor import Tensor, TensorShape, array_on, convert_to_tensor, wrap
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

    def __init__(
        self,
        graph: Graph,
        outputs: Any,
        signature: tuple,
        tensor_positions: list,
        python_function: Callable | None = None,
    ) -> None:
        self.graph = graph
        self._python_function = python_function  # names the parameters in its printout
        self.structured_outputs = outputs
        self.structured_input_signature = signature
        self._tensor_positions = tensor_positions  # flat argument positions fed to placeholders
        self._argument_names = _argument_names(signature, tensor_positions)
        self._program = executor.Program(graph, *passes.optimize(graph.operations, graph.outputs), lower=True)
        self._flat_outputs = nest.flatten(outputs, expand_composites=True)
        # A function returning one graph tensor: its result as it is, with no repacking.
        self._one_output = isinstance(outputs, Tensor) and _is_symbolic(outputs, graph)

    def pretty_printed_signature(self, verbose: bool = True) -> str:
        """The parameters it was traced for, its outputs and the variables it captures, as
        TF's ``ConcreteFunction.pretty_printed_signature`` lays them out."""
        args, kwargs = self.structured_input_signature
        try:
            params = list(inspect.signature(self._python_function).parameters.values())
        except (TypeError, ValueError):  # None (a loaded function) or a callable without one
            params = []
        lines = ["Input Parameters:"]
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for k, value in enumerate(args):
            p = positional[k] if k < len(positional) else None
            label = f"{p.name} ({p.kind.name})" if p else f"args_{k} (VAR_POSITIONAL)"
            lines.append(f"  {label}: {_type_text(value)}")
        kinds = {p.name: p.kind.name for p in params}
        for name in kwargs:
            lines.append(f"  {name} ({kinds.get(name, 'VAR_KEYWORD')}): {_type_text(kwargs[name])}")
        lines += ["Output Type:", f"  {_type_text(self.structured_outputs)}", "Captures:"]
        captured = [v for v in self.graph.variables]
        lines += [f"  {v.name}: {_type_text(v)}" for v in captured] or ["  None"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return "ConcreteFunction " + self.pretty_printed_signature()

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.graph.name} at 0x{id(self):X}>"

    def _bind(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """A call's arguments laid out as the trace's ``(args, kwargs)`` (TF binds a concrete
        function's call by parameter name: a keyword may fill a slot traced positionally and
        back); a Python value left out keeps its traced value, a tensor left out raises."""
        traced_args, traced_kwargs = self.structured_input_signature
        if len(args) == len(traced_args) and kwargs.keys() == traced_kwargs.keys():
            return args, kwargs
        try:
            params = list(inspect.signature(self._python_function).parameters.values())
        except (TypeError, ValueError):
            params = []
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        slots: dict = {}  # ("arg", i) or ("kw", name) -> value given
        for j, value in enumerate(args):
            name = names[j] if j < len(names) else None
            if j < len(traced_args):
                slots[("arg", j)] = value
            elif name in traced_kwargs:
                slots[("kw", name)] = value
            else:
                raise TypeError(
                    f"ConcreteFunction {self.graph.name}: too many positional arguments ({len(args)})"
                )
        for name, value in kwargs.items():
            j = names.index(name) if name in names else None
            key = ("arg", j) if j is not None and j < len(traced_args) else ("kw", name)
            if key[0] == "kw" and name not in traced_kwargs or key in slots:
                raise TypeError(
                    f"ConcreteFunction {self.graph.name}: unexpected or repeated argument {name!r}"
                )
            slots[key] = value

        def filled(key: tuple, was: Any) -> Any:
            if key in slots:
                return slots[key]
            if any(isinstance(x, TensorSpec) for x in nest.flatten(was, expand_composites=True)):
                label = key[1] if key[0] == "kw" else (names[key[1]] if key[1] < len(names) else key[1])
                raise TypeError(f"ConcreteFunction {self.graph.name}: missing tensor argument {label!r}")
            return was

        new_args = tuple(filled(("arg", j), was) for j, was in enumerate(traced_args))
        return new_args, {name: filled(("kw", name), was) for name, was in traced_kwargs.items()}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = self._bind(args, kwargs)
        flat = nest.flatten((args, kwargs), expand_composites=True)
        traced = nest.flatten(self.structured_input_signature, expand_composites=True)
        if len(flat) != len(traced):
            raise TypeError(
                f"ConcreteFunction {self.graph.name}: called with {len(flat)} values (tensors and Python "
                f"values, nested ones counted) where it was traced for {len(traced)}: "
                f"{self.structured_input_signature}"
            )
        for k, (value, was) in enumerate(zip(flat, traced)):
            if not isinstance(was, TensorSpec) and not _same_python_value(value, was):
                raise TypeError(
                    f"ConcreteFunction {self.graph.name}: argument {k} is {value!r} here but was traced "
                    f"as the Python value {was!r}, which the graph holds as a constant; call the "
                    "gt.function itself to trace for the new value"
                )
        return self._call_flat([flat[i] for i in self._tensor_positions])

    def _call_flat(self, tensors: list) -> Any:
        target = self.graph.target
        for i, spec in enumerate(self.graph.inputs):
            t = tensors[i]
            if not isinstance(t, Tensor):
                t = tensors[i] = convert_to_tensor(t)
            if t._data.dtype != spec.dtype or not _shape_accepts(spec.shape, t._data.shape):
                raise InvalidArgumentError(
                    f"ConcreteFunction {self.graph.name}: argument {i} ({self._argument_names[i]}) has "
                    f"shape {tuple(t._data.shape)} and dtype {t.dtype.name}, which does not match "
                    f"{TensorSpec(spec.shape, dtypes.from_numpy(spec.dtype))}, the spec it was traced "
                    "for (None dims accept any size). Call the gt.function instead, which traces again"
                )
            if t._device is not target and t._dtype is not dtypes.string:  # strings stay on the CPU
                tensors[i] = wrap(array_on(t, target), target)
        if state.tapes:
            with device_scope(target):
                results = executor.run_recorded(self._program, tensors)
        else:
            results = executor.run(self._program, [t._data for t in tensors])
        if self._one_output:
            return results[0]
        it = iter(results)
        flat = [next(it) if _is_symbolic(o, self.graph) else o for o in self._flat_outputs]
        return nest.pack_sequence_as(self.structured_outputs, flat, expand_composites=True)


def _type_text(value: Any) -> str:
    """How TF's signature printout names a value's type: TensorSpecs, Literal[...] for Python
    values, List/Tuple/Dict of those."""
    if isinstance(value, TensorSpec):
        return repr(value)
    if isinstance(value, (Tensor, Variable)):
        shape = None if value.shape.rank is None else tuple(value.shape)
        kind = "Variable" if isinstance(value, Variable) else "Tensor"
        spec = TensorSpec(shape, value.dtype)
        return repr(spec) if kind == "Tensor" else f"Variable{repr(spec)[len('TensorSpec') :]}"
    if isinstance(value, IndexedSlices):
        # TF's IndexedSlicesSpec(dense shape, dtype, indices dtype, dense shape dtype, indices shape);
        # the parts are TensorSpecs (an argument) or graph tensors (a result).
        values, indices = value._gt_components()
        dense = value._shape if value._shape is not None else [None, *list(values.shape)[1:]]
        shape_dtype = "None" if value._shape is None else repr(dtypes.int32)
        return (
            f"IndexedSlicesSpec({TensorShape(dense)!r}, {values.dtype!r}, {indices.dtype!r}, "
            f"{shape_dtype}, {TensorShape(indices.shape)!r})"
        )
    if isinstance(value, list):
        return f"List[{', '.join(_type_text(v) for v in value)}]"
    if isinstance(value, tuple):
        return f"Tuple[{', '.join(_type_text(v) for v in value)}]"
    if isinstance(value, dict):
        return f"Dict[{', '.join(f'[{k!r}, {_type_text(v)}]' for k, v in value.items())}]"
    return "None" if value is None else f"Literal[{value!r}]"


def _same_python_value(value: Any, traced: Any) -> bool:
    if isinstance(value, (Tensor, Variable)) or isinstance(traced, (Tensor, Variable)):
        return value is traced
    try:
        return type(value) is type(traced) and bool(value == traced)
    except Exception:  # an object whose == is not a plain truth value: the same object only
        return value is traced


def _shape_accepts(traced: tuple | None, shape: tuple) -> bool:
    """Whether a graph traced for ``traced`` (None dims: any size; None: any rank) takes ``shape``."""
    if traced is None:
        return True
    return len(traced) == len(shape) and all(d is None or d == n for d, n in zip(traced, shape))


def _argument_names(signature: Any, positions: list) -> list[str]:
    """Per placeholder, how an error names its argument: the spec's name, else its flat position."""
    flat = nest.flatten(signature, expand_composites=True)
    return [
        f"{flat[p].name!r}" if isinstance(flat[p], TensorSpec) and flat[p].name else f"flat position {p}"
        for p in positions
    ]


def _placeholder_names(fn: Callable, args: tuple, kwargs: dict) -> list[str]:
    """Per flat position of ``(args, kwargs)``, the argument it comes from, as TF names a
    function's placeholders: the parameter's name, with ``_k`` per leaf of a nested argument."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), "args")
    bases = [
        positional[i] if i < len(positional) else f"{rest}_{i - len(positional)}" for i in range(len(args))
    ]
    names = []
    for base, value in zip([*bases, *sorted(kwargs)], [*args, *(kwargs[k] for k in sorted(kwargs))]):
        n = len(nest.flatten(value, expand_composites=True))
        names += [base] if n == 1 and not nest.is_nested(value) else [f"{base}_{k}" for k in range(n)]
    return names


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
        self._traced: list[tuple] = []  # the keys traced, in order (others alias one of them)
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
        if isinstance(spec, TensorSpec) and isinstance(value, TensorSpec):
            if value.dtype != spec.dtype or not spec.shape.is_compatible_with(value.shape):
                raise TypeError(
                    f"{self._name}: argument {i} ({value}) does not match its input_signature {spec}"
                )
            return spec
        if isinstance(spec, TensorSpec):
            t = value if isinstance(value, (Tensor, Variable)) else convert_to_tensor(value, dtype=spec.dtype)
            if not spec.is_compatible_with(t):
                raise TypeError(
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
        if not kwargs and all(type(a) is Tensor for a in args):
            # A training step's call: tensors only. Its key, as `_signature` would build it,
            # without flattening a structure there is none of (a few microseconds a step).
            key = (
                _positional_structure(len(args)),
                tuple(_tensor_key(a) for a in args),
            )
            concrete = self._concrete.get(key)
            if concrete is not None:
                self._last_key = key
                return concrete, list(args)
        flat = nest.flatten((args, kwargs), expand_composites=True)
        key = _signature((args, kwargs), flat)
        concrete = self._concrete.get(key)
        if concrete is None:
            if self._input_signature is not None:
                key = _with_shapes(key, _signature_shapes(self._input_signature, len(flat)))
            concrete = self._concrete.get(key) or self._dispatch(key)
            if concrete is None:
                if self._reduce_retracing:
                    key = self._generalized(key)
                self._warn_retracing(key)
                concrete = self._trace(args, kwargs, flat, key)
                self._traced.append(key)
                # A key names variables by id: keeping them alive keeps the ids unique.
                self._keep.extend(x for x in flat if isinstance(x, Variable))
            self._concrete[key] = concrete
        self._last_key = key
        return concrete, flat

    def _dispatch(self, key: tuple) -> ConcreteFunction | None:
        """The most specific traced graph whose signature accepts ``key`` (fewest None dims), as TF's
        dispatch table; None when no trace does."""
        best, best_unknown = None, None
        for traced in self._traced:
            unknown = _accepts(traced, key)
            if unknown is not None and (best_unknown is None or unknown < best_unknown):
                best, best_unknown = traced, unknown
        return None if best is None else self._concrete[best]

    def _generalized(self, key: tuple) -> tuple:
        """reduce_retracing: ``key`` relaxed against every earlier trace it can be: the dims that
        differ become None, a rank that differs an unknown rank (TF's try_generalizing_function_type)."""
        for traced in self._traced:
            relaxed = _common_supertype(key, traced)
            if relaxed is not None:
                key = relaxed
        return key

    def _trace(self, args: tuple, kwargs: dict, flat: list, key: tuple) -> ConcreteFunction:
        # TensorSpecs (from get_concrete_function) trace like tensors of their shape and dtype.
        tensors = [i for i, x in enumerate(flat) if isinstance(x, (Tensor, TensorSpec))]
        shapes = [part[1] if part[0] == "tensor" else None for part in key[1]]  # None dims allowed
        target = next((flat[i]._device for i in tensors if isinstance(flat[i], Tensor)), None)
        target = target or state.device or registry.default_device()
        names = _placeholder_names(self._python_function, args, kwargs)
        if self._input_signature is not None:  # a spec's own name comes first, as in TF
            specs = nest.flatten(self._input_signature)
            names[: len(specs)] = [getattr(sp, "name", None) or n for sp, n in zip(specs, names)]

        def build() -> tuple[Graph, Any]:
            graph = Graph(target, name=f"{self._name}_{self._tracing_count}")
            symbolic = list(flat)
            for i in tensors:
                symbolic[i] = wrap(graph.placeholder(shapes[i], flat[i].dtype, names[i]), graph.device)
            sym_args, sym_kwargs = nest.pack_sequence_as((args, kwargs), symbolic, expand_composites=True)
            with graph.building():
                outputs = self._traced_function()(*sym_args, **sym_kwargs)
                # A returned variable (or assign's result) comes back as its value, as TF's: a
                # read at the end of the graph, after every assignment the function made.
                leaves = nest.flatten(outputs, expand_composites=True)
                if any(isinstance(x, Variable) for x in leaves):
                    leaves = [x.value() if isinstance(x, Variable) else x for x in leaves]
                    outputs = nest.pack_sequence_as(outputs, leaves, expand_composites=True)
                return graph, outputs

        graph, outputs = build()
        if graph.created_variables:
            if self._variables_made:
                raise self._variables_error(graph, "on a trace after its first one")
            # As TF: a first trace that made variables runs again, now capturing them; one that
            # makes more there would make new ones at every call.
            self._variables_made = True
            graph, outputs = build()
            if graph.created_variables:
                raise self._variables_error(graph, "at every trace")
        self._tracing_count += 1
        flat_out = nest.flatten(outputs, expand_composites=True)
        graph.outputs = [o._data for o in flat_out if _is_symbolic(o, graph)]
        signature = nest.pack_sequence_as(
            (args, kwargs),
            [
                TensorSpec(shapes[i], x.dtype, x.name if isinstance(x, TensorSpec) else None)
                if i in tensors
                else x
                for i, x in enumerate(flat)
            ],
            expand_composites=True,
        )
        return ConcreteFunction(graph, outputs, signature, tensors, self._python_function)

    def _variables_error(self, graph: Graph, when: str) -> ValueError:
        made = ", ".join(v.name for v in graph.created_variables)
        return ValueError(
            f"{self._name}: the function created variables {when} ({made}). gt.function, as "
            "tf.function, only supports singleton variables: only variables created on the first "
            "call. Create them outside the function, or once (in __init__, or behind "
            "`if self.v is None`)"
        )

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

    def pretty_printed_concrete_signatures(self, verbose: bool = True) -> str:
        """Each traced graph's `ConcreteFunction.pretty_printed_signature`, a blank line between."""
        return "\n\n".join(self._concrete[key].pretty_printed_signature(verbose) for key in self._traced)

    def __repr__(self) -> str:
        return f"<gt.function {self._name}: {self._tracing_count} traces>"


@functools.lru_cache(maxsize=16)
def _positional_structure(n: int) -> str:
    """`_signature`'s structure text for ``n`` positional tensors and no keywords."""
    return repr(nest.pack_sequence_as((tuple(range(n)), {}), [None] * n, expand_composites=True))


def _tensor_key(x: Tensor) -> tuple:
    """A tensor argument's part of a call's key: its shape, dtype and device."""
    return ("tensor", tuple(x._data.shape), x.dtype, id(x._device))


def _signature(structure: Any, flat: list) -> tuple:
    parts = []
    for x in flat:
        if isinstance(x, Variable):
            parts.append(("variable", id(x), x.name))  # the function keeps x alive (_keep)
        elif isinstance(x, Tensor):
            parts.append(_tensor_key(x))
        elif isinstance(x, TensorSpec):
            dims = None if x.shape.rank is None else tuple(x.shape.as_list())
            parts.append(("tensor", dims, x.dtype, id(state.device or registry.default_device())))
        else:
            try:
                hash(x)
            except TypeError:
                raise TypeError(
                    f"gt.function: an argument of type {type(x).__name__} is not hashable, so calls "
                    "cannot be told apart by it; pass a tensor, or a hashable Python value"
                ) from None
            parts.append(("python", type(x), x))
    return (repr(nest.pack_sequence_as(structure, [None] * len(flat), expand_composites=True)), tuple(parts))


def _signature_shapes(input_signature: list, n: int) -> list | None:
    """Per flat argument, the shape its input_signature gives (None where no TensorSpec does)."""
    flat = nest.flatten(tuple(input_signature))
    if len(flat) != n:
        return None
    return [
        (None if s.shape.rank is None else tuple(s.shape.as_list())) if isinstance(s, TensorSpec) else False
        for s in flat
    ]


def _with_shapes(key: tuple, shapes: list | None) -> tuple:
    """``key`` with the tensor shapes of ``shapes`` (False: keep the argument's own)."""
    if shapes is None:
        return key
    parts = tuple(
        (p[0], s, *p[2:]) if p[0] == "tensor" and s is not False else p for p, s in zip(key[1], shapes)
    )
    return (key[0], parts)


def _accepts(traced: tuple, key: tuple) -> int | None:
    """How many dims of ``traced`` are unknown if its graph accepts calls of signature ``key``, else None."""
    if traced[0] != key[0] or len(traced[1]) != len(key[1]):
        return None
    unknown = 0
    for t, k in zip(traced[1], key[1]):
        if t[0] != "tensor" or k[0] != "tensor":
            if t != k:
                return None
            continue
        if t[2:] != k[2:]:
            return None
        if t[1] is None:
            unknown += 1000  # an unknown rank accepts more than any known one
            continue
        if k[1] is None or len(t[1]) != len(k[1]):
            return None
        for d, e in zip(t[1], k[1]):
            if d is None:
                unknown += 1
            elif d != e:
                return None
    return unknown


def _common_supertype(key: tuple, other: tuple) -> tuple | None:
    """The narrowest signature accepting both (TensorShape's most_specific_common_supertype per
    tensor), or None when they differ in anything but tensor shapes."""
    if key[0] != other[0] or len(key[1]) != len(other[1]):
        return None
    parts = []
    for a, b in zip(key[1], other[1]):
        if a[0] != "tensor" or b[0] != "tensor":
            if a != b:
                return None
            parts.append(a)
            continue
        if a[2:] != b[2:]:
            return None
        if a[1] is None or b[1] is None or len(a[1]) != len(b[1]):
            parts.append((a[0], None, *a[2:]))
        else:
            parts.append((a[0], tuple(d if d == e else None for d, e in zip(a[1], b[1])), *a[2:]))
    return (key[0], tuple(parts))


def _describe(part: tuple) -> str:
    if part[0] == "tensor":
        return f"{part[2].name}{'<unknown rank>' if part[1] is None else list(part[1])}"
    if part[0] == "variable":
        return f"variable {part[2]}"
    return repr(part[2])


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
      input_signature: TensorSpecs the positional arguments must match; the function
        is traced once, for their shapes (a None dim takes any size at run time).
      reduce_retracing: when True, a call with shapes no trace accepts traces a graph
        whose dims that differ from an earlier trace's are None, so later sizes reuse it.
      autograph: whether AutoGraph converts Python ``if``/``while``/``for`` on tensors
        (in ``func`` and the user functions it calls) into graph control flow
        (docs/graphs.md, "AutoGraph"). Python control flow on Python values runs as
        Python either way.
      jit_compile, experimental_*: accepted for TF compatibility; see docs/graphs.md
        for what this version does with them.

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
            experimental_relax_shapes=experimental_relax_shapes,
        )
    # experimental_relax_shapes is reduce_retracing's old name (TF).
    return PolymorphicFunction(
        func,
        input_signature,
        reduce_retracing or bool(experimental_relax_shapes),
        jit_compile,
        autograph=autograph,
    )
