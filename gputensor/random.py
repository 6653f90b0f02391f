"""``gt.random``: seeded random tensors and ``gt.random.Generator`` (see docs/random.md)."""

from types import SimpleNamespace as _Namespace

from gputensor.ops.random_ops import (
    Algorithm,
    Generator,
    categorical,
    create_rng_state,
    fold_in,
    get_global_generator,
    normal,
    set_global_generator,
    set_seed,
    shuffle,
    split,
    stateless_categorical,
    stateless_normal,
    stateless_truncated_normal,
    stateless_uniform,
    truncated_normal,
    uniform,
)

# tf.random.experimental: the same objects under their experimental names.
experimental = _Namespace(
    Algorithm=Algorithm,
    Generator=Generator,
    create_rng_state=create_rng_state,
    get_global_generator=get_global_generator,
    set_global_generator=set_global_generator,
    stateless_split=split,
    stateless_fold_in=fold_in,
)
