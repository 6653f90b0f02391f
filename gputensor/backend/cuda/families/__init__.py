"""CUDA kernel families: each module generates its sources and registers its glue by op name.

A family module has ``sources(ops) -> list[KernelSource]`` (every unit it can
launch, for the build check, precompile and the CPU harness) and ``KERNELS``:
op name -> factory(backend) -> kernel(*arrays, **attrs).
"""

from gputensor.backend.cuda.families import (
    conv,
    copy,
    elementwise,
    index,
    linalg,
    pool,
    random,
    reduce,
    softmax,
    sort,
)

# Ops that run complex dtypes on the device; CudaBackend sends other complex calls to the host.
COMPLEX_ON_DEVICE = reduce.COMPLEX_ON_DEVICE

ALL = [elementwise, conv, pool, copy, index, sort, reduce, softmax, random, linalg]
