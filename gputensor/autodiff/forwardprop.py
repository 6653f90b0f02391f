"""``gt.autodiff.ForwardAccumulator``: forward-mode (Jacobian-vector products), as TF's.

How it works. TF pushes tangents forward op by op with a JVP rule per op. gt has
reverse-mode rules only, so the accumulator records the ops run inside its block
on a persistent tape watching the primals, and `jvp` obtains J @ tangent from
two reverse passes (the "double-VJP" trick): the vector-Jacobian product
``g(u) = J^T u`` is linear in the output cotangent ``u``, so its own reverse
pass with respect to ``u``, seeded with the tangents, is ``J @ tangents``. The
gradient functions are written with ops, so the first pass is recorded on a
second tape watching ``u``. Both passes run with ops while any other tape or
accumulator records, so forward-over-reverse, reverse-over-forward and nested
accumulators (Hessian-vector products) work as in TF. TF computes a JVP during
the forward pass, where the tapes and accumulators around it see it; here `jvp`
may run later, so the tapes that were active around the accumulator's block
record it again for that call.

Cost: a `jvp` call is two backward passes over the recorded ops (TF's forward
mode adds about one forward pass per accumulator instead), and the tape keeps
the intermediates until the accumulator is deleted.
"""

from __future__ import annotations

from typing import Any

from gputensor.autodiff import nest
from gputensor.autodiff.indexed_slices import densify
from gputensor.autodiff.tape import (
    _DIFFERENTIABLE_KINDS,
    GradientTape,
    UnconnectedGradients,
    _unconnected,
    _zeros_like,
)
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor
from gputensor.framework.variable import Variable


class ForwardAccumulator:
    """Computes Jacobian-vector products ("JVP"s) using forward-mode autodiff, as
    ``tf.autodiff.ForwardAccumulator``.

    Ops run inside the ``with`` block on the primals (or on values computed from
    them) are watched; `jvp` then gives the directional derivative of a computed
    tensor along ``tangents``.

    Args:
      primals: a Tensor or Variable, or a nested structure of them, to watch.
      tangents: the direction: a tensor-like per primal, with the primal's shape
        (same nested structure as ``primals``).

    Raises:
      ValueError: when ``tangents`` does not match ``primals`` in structure, shape
        or dtype, or a primal is not a Tensor or Variable.

    >>> x = gt.constant([1.0, 2.0])
    >>> with gt.autodiff.ForwardAccumulator(x, gt.constant([1.0, 0.0])) as acc:
    ...     y = x * x
    >>> acc.jvp(y).numpy().tolist()
    [2.0, 0.0]
    """

    def __init__(self, primals: Any, tangents: Any) -> None:
        flat_primals = nest.flatten(primals)
        flat_tangents = nest.flatten(tangents)
        if len(flat_primals) != len(flat_tangents):
            raise ValueError(
                f"ForwardAccumulator: got {len(flat_primals)} primals and {len(flat_tangents)} tangents; "
                "give one tangent per primal, in the same structure"
            )
        self._primals: list[Any] = []
        self._tangents: list[Tensor] = []
        for k, (p, t) in enumerate(zip(flat_primals, flat_tangents)):
            if not isinstance(p, (Tensor, Variable)):
                raise ValueError(
                    f"ForwardAccumulator: primal {k} is of type {type(p).__name__}, not gt.Tensor or "
                    "gt.Variable; convert it with gt.constant(value) first"
                )
            value = p._value if isinstance(p, Variable) else p
            if value._dtype.kind not in _DIFFERENTIABLE_KINDS:
                raise ValueError(
                    f"ForwardAccumulator: primal {k} has dtype gt.{value._dtype.name}; forward-mode "
                    "differentiation needs a floating (or complex) primal, e.g. gt.cast(x, gt.float32)"
                )
            tangent = convert_to_tensor(t, dtype=value._dtype)
            if tuple(tangent._data.shape) != tuple(value._data.shape):
                raise ValueError(
                    f"ForwardAccumulator: mismatched shape between primal {k} {tuple(value._data.shape)} "
                    f"and its tangent {tuple(tangent._data.shape)}; a tangent has its primal's shape"
                )
            self._primals.append(p)
            self._tangents.append(tangent)
        self._tape = GradientTape(persistent=True, watch_accessed_variables=False)
        self._enclosing: tuple = ()

    def __enter__(self) -> ForwardAccumulator:
        # TF computes JVPs during the forward pass, so the tapes and accumulators active around
        # this one see them even when `jvp` is called after their blocks: remember them.
        self._enclosing = state.tapes
        self._tape.__enter__()
        self._tape.watch(self._primals)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._tape.__exit__(*exc)

    def jvp(
        self,
        primals: Any,
        unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
    ) -> Any:
        """Fetches the Jacobian-vector product computed for ``primals``.

        Args:
          primals: a Tensor or Variable computed inside the block (or a nested
            structure of them).
          unconnected_gradients: ``UnconnectedGradients.NONE`` (None for a tensor
            that does not depend on the watched primals) or ``.ZERO`` (zeros).

        Returns:
          The directional derivative of each of ``primals`` along the tangents,
          in the structure of ``primals``; None for unwatched (or integer) values
          unless ``unconnected_gradients`` is ZERO.

        Raises:
          ValueError: when an element is not a Tensor or Variable.
        """
        unconnected = _unconnected(unconnected_gradients)
        flat = nest.flatten(primals)
        return nest.pack_sequence_as(primals, [self._jvp(t, unconnected) for t in flat])

    def _jvp(self, target: Any, unconnected: UnconnectedGradients) -> Tensor | None:
        tape = self._tape
        if isinstance(target, Variable):
            target = tape._variable_target(target)
        if not isinstance(target, Tensor):
            raise ValueError(
                f"ForwardAccumulator.jvp: got an object of type {type(target).__name__}, not gt.Tensor "
                "or gt.Variable"
            )
        result = None
        if target._dtype.kind in _DIFFERENTIABLE_KINDS and id(target) in tape._ids:
            result = self._linearized(target)
        if result is None and unconnected is UnconnectedGradients.ZERO:
            return _zeros_like(target)
        return result

    def _linearized(self, target: Tensor) -> Tensor | None:
        """``J @ tangents`` for ``target``: the reverse pass over the records with a watched
        cotangent ``u``, differentiated with respect to ``u`` along the tangents."""
        tape = self._tape
        groups = [tape._source_ids(tape._source_key(p)) for p in self._primals]
        source_ids = {k for group in groups for k in group}
        if not source_ids:
            return None
        # The accumulator's own tape must not record its backward passes (they would stay
        # alive with it); other tapes and accumulators do, to differentiate this JVP.
        saved = state.tapes
        again = tuple(t for t in self._enclosing if not t._used and all(t is not a for a in saved))
        state.tapes = again + tuple(t for t in saved if t is not tape)
        try:
            u = _zeros_like(target)
            with GradientTape(watch_accessed_variables=False) as lin:
                lin.watch(u)
                grads = tape._backward([target], [u], source_ids)
                vjps, seeds = [], []
                for group, tangent in zip(groups, self._tangents):
                    g = None
                    for k in group:
                        gk = grads.get(k)
                        if gk is not None:
                            # Densified (a gather's IndexedSlices) while `lin` records.
                            g = densify(gk) if g is None else g + densify(gk)
                    if g is not None:
                        vjps.append(g)
                        seeds.append(tangent)
            if not vjps:
                return None
            result = lin.gradient(vjps, u, output_gradients=seeds)
        finally:
            state.tapes = saved
        # Connected, but the VJP does not depend on u (every path multiplies by zero): zero.
        return _zeros_like(target) if result is None else densify(result)
