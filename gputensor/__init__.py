"""gputensor: TensorFlow 2's programming model on CuPy raw CUDA kernels or NumPy.

    import gputensor as gt
    x = gt.constant([[1.0, 2.0], [3.0, 4.0]])
    gt.reduce_sum(x * 2.0, axis=1)

Ops run on GPU:0 when CuPy sees a GPU, else on the CPU (``GPUTENSOR_DEVICE=cpu``
forces the CPU). The public names follow TensorFlow's; see README.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from gputensor import (  # noqa: E402
    config,
    errors,  # noqa: E402
    linalg,
    math,
    nn,
    random,
)
from gputensor.framework.context import NameScope as name_scope  # noqa: E402
from gputensor.framework.device_scope import device  # noqa: E402
from gputensor.framework.dtypes import (  # noqa: E402
    DType,
    as_dtype,
    bfloat16,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from gputensor.framework.dtypes import bool_ as bool  # noqa: E402, A001
from gputensor.framework.memory import memory, tidy  # noqa: E402
from gputensor.framework.tensor import Tensor, constant, convert_to_tensor, is_tensor  # noqa: E402
from gputensor.framework.tensor_shape import TensorShape  # noqa: E402
from gputensor.framework.variable import Variable  # noqa: E402
from gputensor.ops.array_ops import *  # noqa: E402, F403
from gputensor.ops.linalg_ops import *  # noqa: E402, F403
from gputensor.ops.math_ops import *  # noqa: E402, F403
from gputensor.ops.random_ops import *  # noqa: E402, F403
from gputensor.ops.logging_ops import print  # noqa: E402, A004 - TF's tf.print

newaxis = None

# Automatic differentiation and modules.
from gputensor import test_util as test  # noqa: E402
from gputensor.autodiff import (  # noqa: E402
    GradientTape,
    IndexedSlices,
    UnconnectedGradients,
    custom_gradient,
    recompute_grad,
    stop_gradient,
)
from gputensor.module import Module  # noqa: E402


_LAZY = {"saved_model": ("gputensor.saved_model", None), "onnx": ("gputensor.onnx", None),
         "function": ("gputensor.graph", "function"), "TensorSpec": ("gputensor.graph", "TensorSpec"),
         "cond": ("gputensor.graph.control_flow", "cond"),
         "while_loop": ("gputensor.graph.control_flow", "while_loop"),
         "TensorArray": ("gputensor.graph.tensor_array", "TensorArray"),
         "map_fn": ("gputensor.graph.map_fn", "map_fn"),
         "init_scope": ("gputensor.framework.scopes", "init_scope"),
         "executing_eagerly": ("gputensor.framework.scopes", "executing_eagerly"),
         "keras": ("gputensor.keras", None), "data": ("gputensor.data", None),
         "train": ("gputensor.train", None), "autograph": ("gputensor.autograph", None),
         "dtypes": ("gputensor.dtypes", None),
         "strings": ("gputensor.strings", None)}  # fmt: skip


def __getattr__(name: str):
    # Graphs and saved models load on first use: eager code never pays for their imports.
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gputensor' has no attribute {name!r}")
