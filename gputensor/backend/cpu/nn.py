"""CPU kernels (filled in by the nn family)."""

KERNELS: dict = {}
