"""Gradient functions, one module per op family, registered by op name."""
