"""CPU kernels (filled in by the array family)."""

KERNELS: dict = {}
