"""``gt.test``: gradient checking as ``tf.test.compute_gradient``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gputensor.framework.tensor import Tensor, convert_to_tensor

__all__ = ["compute_gradient", "gpu_device_name", "is_gpu_available", "is_built_with_cuda"]


def gpu_device_name() -> str:
    """The name of the first GPU device (``"/device:GPU:0"``), or ``""`` without a GPU, as TF's."""
    from gputensor.backend import registry

    gpus = [d for d in registry.devices() if d.device_type == "GPU"]
    return f"/device:GPU:{gpus[0].index}" if gpus else ""


def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability: Any = None) -> bool:
    """Whether a GPU device is visible, as TF's deprecated helper.

    Prefer ``gt.config.list_physical_devices("GPU")``.

    Args:
      cuda_only: accepted for TF compatibility (every gputensor GPU is a CUDA GPU).
      min_cuda_compute_capability: accepted for TF compatibility; not checked.

    Returns:
      True when gputensor sees a GPU.
    """
    return bool(gpu_device_name())


def is_built_with_cuda() -> bool:
    """Whether the CUDA backend can be used: CuPy is installed."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


def compute_gradient(
    f: Callable[..., Any], x: Sequence[Any], delta: float | None = None
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Computes the theoretical and numeric Jacobian of ``f``, as ``tf.test.compute_gradient``.

    The theoretical Jacobian comes from the gradient tape (one backward pass per
    element of ``f``'s result); the numeric one from central differences
    ``(f(x + delta) - f(x - delta)) / (2 delta)``. Use float64 inputs for tight
    comparisons.

    Args:
      f: a function of the tensors in ``x`` returning one tensor.
      x: a list or tuple of arguments for ``f`` (tensors or values convertible to one).
      delta: the finite-difference step; 1/1024 (exactly representable) when None.

    Returns:
      ``(theoretical, numeric)``: two tuples with one 2-D NumPy array per argument, of
      shape ``(y_size, x_size)`` (rows: elements of the result; columns: elements of
      the argument).

    Raises:
      ValueError: when ``x`` is not a list or tuple.
      TypeError: when an argument or the result is not floating point.

    >>> theoretical, numeric = gt.test.compute_gradient(lambda x: x * x, [gt.constant([3.0], gt.float64)])
    >>> theoretical[0]
    array([[6.]])
    """
    if not isinstance(x, (list, tuple)):
        raise ValueError(
            f"compute_gradient: `x` must be a list or tuple of values convertible to a Tensor "
            f"(arguments to `f`), not a {type(x).__name__}"
        )
    if delta is None:
        delta = 1.0 / 1024
    xs = [convert_to_tensor(v) for v in x]
    for i, t in enumerate(xs):
        if not t.dtype.is_floating:
            raise TypeError(
                f"compute_gradient: argument {i} has dtype {t.dtype.name}; cannot compute the gradient "
                "of an integer argument, pass floating point values (float64 for accuracy)"
            )
    y = convert_to_tensor(f(*xs))
    if not y.dtype.is_floating:
        raise TypeError(f"compute_gradient: f returned dtype {y.dtype.name}; it must be floating point")
    theoretical = tuple(_theoretical(f, xs, i, y) for i in range(len(xs)))
    numeric = tuple(_numeric(f, xs, i, y, delta) for i in range(len(xs)))
    return theoretical, numeric


def _theoretical(f: Callable, xs: list[Tensor], param: int, y: Tensor) -> np.ndarray:
    from gputensor.autodiff import GradientTape

    x = xs[param]
    y_size, x_size = int(np.prod(y.shape.as_list())), int(np.prod(x.shape.as_list()))
    jacobian = np.zeros((y_size, x_size), dtype=x.dtype.np_dtype)
    seed = np.zeros(y_size, dtype=y.dtype.np_dtype)
    for row in range(y_size):
        seed[:] = 0
        seed[row] = 1
        with GradientTape() as tape:
            tape.watch(x)
            out = f(*xs)
        g = tape.gradient(out, x, output_gradients=convert_to_tensor(seed.reshape(y.shape.as_list())))
        if g is not None:
            jacobian[row] = np.asarray(convert_to_tensor(g).numpy()).reshape(-1)
    return jacobian


def _numeric(f: Callable, xs: list[Tensor], param: int, y: Tensor, delta: float) -> np.ndarray:
    x = xs[param]
    base = np.array(x.numpy(), copy=True)
    y_size, x_size = int(np.prod(y.shape.as_list())), base.size
    jacobian = np.zeros((y_size, x_size), dtype=x.dtype.np_dtype)
    flat = base.reshape(-1)
    for col in range(x_size):
        values = []
        for step in (delta, -delta):
            moved = flat.copy()
            moved[col] += step
            args = list(xs)
            args[param] = convert_to_tensor(moved.reshape(base.shape))
            values.append(np.asarray(convert_to_tensor(f(*args)).numpy(), dtype=np.float64).reshape(-1))
        jacobian[:, col] = (values[0] - values[1]) / (2 * delta)
    return jacobian
