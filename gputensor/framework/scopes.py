"""``gt.init_scope`` and ``gt.executing_eagerly``: where ops run while a function is traced."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from gputensor.framework.context import state


def executing_eagerly() -> bool:
    """Whether ops run now (eagerly) rather than being added to a graph being traced.

    True outside ``gt.function`` and inside ``gt.init_scope()``; False while a
    ``gt.function`` is traced (and inside its ``gt.cond``/``gt.while_loop`` bodies), as
    ``tf.executing_eagerly``. With ``gt.config.run_functions_eagerly(True)`` functions run
    eagerly, so it is True inside them.

    >>> gt.executing_eagerly()
    True
    """
    return state.graph is None


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """A context manager that lifts ops out of function-building graphs (as ``tf.init_scope``).

    Inside it, ops run eagerly even while a ``gt.function`` is being traced, once per trace
    (creating variables or constants once, reading a variable's current value at trace
    time), and gradient tapes are paused. ``gt.executing_eagerly()`` is True inside. Tensors
    made inside are constants of the graph when the function uses them.

    ```python
    @gt.function
    def f():
        assert not gt.executing_eagerly()
        with gt.init_scope():
            assert gt.executing_eagerly()  # runs at trace time
    ```
    """
    graph, device, tapes = state.graph, state.device, state.tapes
    if graph is not None:
        state.graph = None
        # The graph's tracing device is not a device to run on: fall back to the default.
        state.device = None if device is graph.device else device
    state.tapes = ()
    try:
        yield
    finally:
        state.graph, state.device, state.tapes = graph, device, tapes
