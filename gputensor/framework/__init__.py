"""Framework layer: dtypes, shapes, Tensor, Variable, the op table and eager dispatch."""
