"""Backend layer: devices, the CPU (NumPy) and CUDA (CuPy) backends and their kernels.

Nothing here imports from gputensor.framework or above: backends receive op
declarations as plain objects and register kernels by op name.
"""
