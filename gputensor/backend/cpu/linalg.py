"""CPU kernels (filled in by the linalg family)."""

KERNELS: dict = {}
