"""NumPy dtype name -> CUDA C type, and the compute type kernels evaluate in."""

from __future__ import annotations

import numpy as np

C_TYPE = {
    "float16": "__half",
    "bfloat16": "__nv_bfloat16",
    "float32": "float",
    "float64": "double",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "bool": "bool",
}
# Half precision computes in float (loads widen, stores narrow), as cuDNN and CuPy do.
COMPUTE = {"float16": "float32", "bfloat16": "float32"}
GPU_DTYPES = tuple(C_TYPE)


def compute_np(dtype_name: str) -> np.dtype:
    """The NumPy dtype of the compute type (what a by-value scalar argument is passed as)."""
    return np.dtype(COMPUTE.get(dtype_name, dtype_name))


def c_type(dtype_name: str) -> str:
    return C_TYPE[dtype_name]


def c_compute(dtype_name: str) -> str:
    return C_TYPE[COMPUTE.get(dtype_name, dtype_name)]
