"""``gt.strings``: ops on string tensors, as ``tf.strings`` (CPU only; see docs/strings.md)."""

from __future__ import annotations

from gputensor.ops.string_ops import (  # noqa: F401
    __all__,
    as_string,
    bytes_split,
    format,  # noqa: A004
    join,
    length,
    lower,
    reduce_join,
    regex_full_match,
    regex_replace,
    split,
    strip,
    substr,
    to_hash_bucket_fast,
    to_number,
    unicode_decode,
    unicode_encode,
    unicode_split,
    upper,
)
