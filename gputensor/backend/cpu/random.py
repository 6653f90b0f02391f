"""CPU kernels (filled in by the random family)."""

KERNELS: dict = {}
