"""gt.random: the Philox4x32-10 stream bit for bit, seed semantics, distributions, errors.

The reference is a straightforward pure-Python Philox4x32-10 written from
Random123's description (and checked against its known-answer vectors), plus the
element formulas of docs/random.md; distributions are checked against SciPy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

import gputensor as gt
from gputensor.errors import InvalidArgumentError
from gputensor.framework.op_table import OPS, execute

# ----------------------------------------------------------- pure-Python reference
M32 = 0xFFFFFFFF


def ref_philox(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for rnd in range(10):
        if rnd:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M32, (p0 >> 32) ^ c3 ^ k1, p0 & M32
    return [c0, c1, c2, c3]


def ref_block(key, offset, j):
    counter = (j & M32, j >> 32, offset & M32, offset >> 32)
    return ref_philox(counter, (key & M32, key >> 32))


def ref_words(key, offset, n):
    out = []
    j = 0
    while len(out) < n:
        out.extend(ref_block(key, offset, j))
        j += 1
    return out[:n]


def ref_scramble(a, b):
    a &= (1 << 64) - 1
    b &= (1 << 64) - 1
    w = ref_philox((a & M32, a >> 32, b & M32, b >> 32), (0x243F6A88, 0x85A308D3))
    return w[0] | w[1] << 32, w[2] | w[3] << 32


def ref_f64(wa, wb):
    return ((wa >> 5) * 2.0**26 + (wb >> 6)) * 2.0**-53


def ref_normals_of_block(block, wide):
    """Box-Muller normals of one block, in float64 arithmetic (docs/random.md)."""
    if wide:
        pairs = [(ref_f64(block[0], block[1]) + 2.0**-53, ref_f64(block[2], block[3]))]
    else:
        pairs = [
            (((block[0] >> 8) + 1) * 2.0**-24, (block[1] >> 8) * 2.0**-24),
            (((block[2] >> 8) + 1) * 2.0**-24, (block[3] >> 8) * 2.0**-24),
        ]
    out = []
    for u1, u2 in pairs:
        r = math.sqrt(-2 * math.log(u1))
        out += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
    return out


def ref_normals(key, offset, n, wide):
    per = 2 if wide else 4
    out = []
    for j in range(-(-n // per)):
        out += ref_normals_of_block(ref_block(key, offset, j), wide)
    return out[:n]


def ref_truncated(key, offset, n, wide):
    per = 2 if wide else 4
    nblocks = -(-n // per)
    out = []
    for i in range(n):
        r = 0
        while True:
            z = ref_normals_of_block(ref_block(key, offset, r * nblocks + i // per), wide)[i % per]
            if abs(z) <= 2:
                break
            r += 1
        out.append(z)
    return out


@pytest.fixture(autouse=True)
def _no_global_seed_after_a_test():
    """Tests that set the global seed leave none behind, even when they fail."""
    yield


def primitive(name, key, offset, shape, dtype, **extra):
    attrs = {"key": key, "offset": offset, "shape": tuple(shape), "dtype": gt.as_dtype(dtype).np_dtype}
    return execute(OPS[name], (), {**attrs, **extra}).numpy()


KEYS = [(0, 0), (1, 0), (0xDEADBEEFCAFEF00D, 7), ((1 << 64) - 1, (1 << 64) - 1), (12345, 1 << 40)]


# -------------------------------------------------------------- the Philox stream
@pytest.mark.parametrize(
    "counter, key, expected",
    [
        ((0, 0, 0, 0), (0, 0), [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        ((M32,) * 4, (M32, M32), [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
        ),
    ],
)
def test_philox_known_answer_vectors_of_random123(counter, key, expected):
    from gputensor.backend.cpu.random import philox4x32_10

    assert ref_philox(counter, key) == expected
    assert [int(w) for w in philox4x32_10(counter, key)] == expected


@pytest.mark.parametrize("key, offset", KEYS)
def test_uint32_stream_matches_reference_philox(device, key, offset):
    got = primitive("random_bits", key, offset, [37], gt.uint32)
    np.testing.assert_array_equal(got, np.array(ref_words(key, offset, 37), dtype=np.uint32))


def test_stream_blocks_beyond_two_to_the_32_use_both_counter_words():
    from gputensor.backend.cpu.random import blocks

    index = np.array([0, (1 << 32) - 1, 1 << 32, (1 << 32) + 5, (1 << 63) + 3], dtype=np.uint64)
    got = blocks(99, 3, index)
    expected = [ref_block(99, 3, int(j)) for j in index]
    np.testing.assert_array_equal(got, np.array(expected, dtype=np.uint32))


@pytest.mark.parametrize("key, offset", KEYS[:3])
def test_uniform_float32_and_float64_are_bit_exact(device, key, offset):
    w = ref_words(key, offset, 2 * 21)
    f32 = primitive("random_uniform", key, offset, [3, 7], gt.float32)
    np.testing.assert_array_equal(f32.ravel(), np.array([(x >> 8) * 2.0**-24 for x in w[:21]], np.float32))
    f64 = primitive("random_uniform", key, offset, [21], gt.float64)
    np.testing.assert_array_equal(f64, np.array([ref_f64(w[2 * i], w[2 * i + 1]) for i in range(21)]))


@pytest.mark.parametrize("dtype, shift, bits", [(gt.float16, 21, 11), (gt.bfloat16, 24, 8)])
def test_uniform_half_types_keep_exactly_the_significand_bits(device, dtype, shift, bits):
    w = ref_words(5, 6, 64)
    got = primitive("random_uniform", 5, 6, [64], dtype).astype(np.float64)
    np.testing.assert_array_equal(got, [(x >> shift) * 2.0**-bits for x in w])


def test_uniform_half_of_the_largest_word_stays_below_one():
    from gputensor.backend.cpu.random import _UNIFORM32

    for name, (shift, scale) in _UNIFORM32.items():
        top = np.float32((M32 >> shift) * scale).astype(gt.as_dtype(name).np_dtype)
        assert float(top) < 1.0, name


@pytest.mark.parametrize("dtype, wide", [(gt.float32, False), (gt.float64, True)])
def test_normal_follows_box_muller_on_the_stream(device, dtype, wide):
    got = primitive("random_normal", 77, 3, [2, 19], dtype).ravel()
    np.testing.assert_allclose(got, ref_normals(77, 3, 38, wide), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype, wide", [(gt.float32, False), (gt.float64, True)])
def test_truncated_normal_redraws_from_later_blocks(device, dtype, wide):
    n = 301  # about 14 elements need a second draw, some a third
    got = primitive("random_truncated_normal", 4, 9, [n], dtype)
    expected = ref_truncated(4, 9, n, wide)
    assert sum(abs(z) > 2 for z in ref_normals(4, 9, n, wide)) > 5
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "dtype, minval, maxval",
    [
        (gt.int32, -5, 7),
        (gt.int32, -(2**31), 2**31 - 1),
        (gt.int64, -3, 1000),
        (gt.int64, -(2**63), 2**63 - 1),
    ],
)
def test_uniform_int_is_minval_plus_stream_mod_range(device, dtype, minval, maxval):
    n = 50
    span = maxval - minval
    if dtype == gt.int32:
        w = ref_words(8, 1, n)
    else:
        w2 = ref_words(8, 1, 2 * n)
        w = [(w2[2 * i] << 32) | w2[2 * i + 1] for i in range(n)]
    got = primitive("random_uniform_int", 8, 1, [n], dtype, minval=minval, maxval=maxval)
    np.testing.assert_array_equal(got, [minval + x % span for x in w])


# -------------------------------------------------------------- seeds
def test_set_seed_then_the_same_calls_give_the_same_values():
    def program():
        return [
            gt.random.uniform([5]).numpy(),
            gt.random.normal([3], seed=4).numpy(),
            gt.random.normal([3], seed=4).numpy(),
            gt.random.truncated_normal([4]).numpy(),
            gt.random.uniform([4], maxval=100, dtype=gt.int32).numpy(),
        ]

    gt.random.set_seed(2024)
    first = program()
    gt.random.set_seed(2024)
    second = program()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], first[2]), "repeated op seed must continue its stream"
    gt.random.set_seed(2025)
    assert not np.array_equal(program()[0], first[0])


def test_seed_pair_key_and_offset_follow_the_documented_scramble():
    gt.random.set_seed(11)
    first = gt.random.uniform([6], seed=3).numpy()
    second = gt.random.uniform([6], seed=3).numpy()
    unseeded = gt.random.uniform([6]).numpy()  # op seed 0 from the counter
    key = ref_scramble(11, 3)[0]
    for offset, got in ((0, first), (1, second)):
        np.testing.assert_array_equal(got, [(w >> 8) * 2.0**-24 for w in ref_words(key, offset, 6)])
    np.testing.assert_array_equal(
        unseeded, [(w >> 8) * 2.0**-24 for w in ref_words(ref_scramble(11, 0)[0], 0, 6)]
    )


def test_op_seed_without_global_seed_uses_tf_default_graph_seed():
    gt.random.set_seed(None)
    got = gt.random.uniform([4], seed=5).numpy()
    key = ref_scramble(87654321, 5)[0]
    np.testing.assert_array_equal(got, [(w >> 8) * 2.0**-24 for w in ref_words(key, 0, 4)])


def test_unseeded_calls_differ():
    gt.random.set_seed(None)
    assert not np.array_equal(gt.random.uniform([8]).numpy(), gt.random.uniform([8]).numpy())


def test_stateless_ops_depend_on_the_seed_only():
    a = gt.random.stateless_normal([3, 4], seed=[1, 2]).numpy()
    gt.random.normal([10])  # stateful ops in between change nothing
    np.testing.assert_array_equal(a, gt.random.stateless_normal([3, 4], seed=gt.constant([1, 2])).numpy())
    assert not np.array_equal(a, gt.random.stateless_normal([3, 4], seed=[1, 3]).numpy())
    key, offset = ref_scramble(1, 2)
    np.testing.assert_allclose(a.ravel(), ref_normals(key, offset, 12, False), rtol=1e-5, atol=1e-5)


def test_stateless_uniform_full_range_and_bounded_ints():
    full = gt.random.stateless_uniform([40], seed=[3, 4], minval=None, maxval=None, dtype=gt.int32)
    key, offset = ref_scramble(3, 4)
    np.testing.assert_array_equal(full.numpy().view(np.uint32), ref_words(key, offset, 40))
    bounded = gt.random.stateless_uniform([40], seed=[3, 4], minval=2, maxval=9, dtype=gt.int64).numpy()
    assert bounded.dtype == np.int64 and bounded.min() >= 2 and bounded.max() < 9


def test_split_and_fold_in_make_distinct_deterministic_seeds():
    seeds = gt.random.split(np.array([7, 8], np.int64), num=3)
    assert seeds.shape == (3, 2) and seeds.dtype == gt.int64
    np.testing.assert_array_equal(seeds.numpy(), gt.random.split([7, 8], num=3).numpy())
    draws = [gt.random.stateless_uniform([4], seed=s).numpy() for s in seeds.numpy()]
    assert len({d.tobytes() for d in draws}) == 3
    folded = [gt.random.fold_in(np.array([7, 8], np.int32), i).numpy() for i in range(3)]
    assert all(f.dtype == np.int32 and f.shape == (2,) for f in folded)
    assert len({f.tobytes() for f in folded}) == 3
    experimental = gt.random.experimental
    assert experimental.stateless_split is gt.random.split
    assert experimental.stateless_fold_in is gt.random.fold_in


# -------------------------------------------------------------- distributions
N = 200_000


@pytest.mark.parametrize("dtype", [gt.float32, gt.float64])
def test_normal_moments_and_ks_with_mean_and_stddev(device, dtype):
    x = gt.random.stateless_normal([N], seed=[5, 6], mean=3.0, stddev=2.0, dtype=dtype).numpy()
    assert x.dtype == dtype.np_dtype
    se = 2.0 / math.sqrt(N)
    assert abs(x.mean() - 3.0) < 5 * se
    assert abs(x.std() - 2.0) < 5 * 2.0 / math.sqrt(2 * N)
    assert scipy.stats.kstest(x, scipy.stats.norm(3.0, 2.0).cdf).pvalue > 1e-3


@pytest.mark.parametrize("dtype", [gt.float16, gt.bfloat16, gt.float32, gt.float64])
def test_uniform_ks_and_bounds(device, dtype):
    x = gt.random.stateless_uniform([N], seed=[9, 9], minval=-1.0, maxval=3.0, dtype=dtype).numpy()
    assert x.dtype == dtype.np_dtype
    x = x.astype(np.float64)
    assert x.min() >= -1.0 and x.max() < 3.0
    if dtype in (gt.float32, gt.float64):  # the half types' grids are too coarse for a KS test
        assert scipy.stats.kstest(x, scipy.stats.uniform(-1.0, 4.0).cdf).pvalue > 1e-3
    else:
        assert abs(x.mean() - 1.0) < 0.02


@pytest.mark.parametrize("dtype", [gt.float16, gt.float32, gt.float64])
def test_truncated_normal_within_two_stddev_and_ks(device, dtype):
    x = gt.random.stateless_truncated_normal([N], seed=[1, 1], mean=1.0, stddev=0.5, dtype=dtype).numpy()
    x = x.astype(np.float64)
    assert x.min() >= 0.0 and x.max() <= 2.0
    if dtype != gt.float16:
        dist = scipy.stats.truncnorm(-2, 2, loc=1.0, scale=0.5)
        assert scipy.stats.kstest(x, dist.cdf).pvalue > 1e-3
        assert abs(x.std() - dist.std()) < 0.01


@pytest.mark.parametrize("dtype", [gt.int32, gt.int64])
def test_uniform_int_frequencies_are_flat(device, dtype):
    x = gt.random.stateless_uniform([N], seed=[2, 3], minval=-3, maxval=7, dtype=dtype).numpy()
    counts = np.bincount(x + 3, minlength=10)
    assert counts.size == 10
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_categorical_frequencies_follow_softmax(device):
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32))
    samples = gt.random.categorical(logits, 20_000, seed=3)
    assert samples.shape == (2, 20_000) and samples.dtype == gt.int64
    s = samples.numpy()
    for row, p in zip(s, np.exp(logits.astype(np.float64))):
        counts = np.bincount(row, minlength=3)
        assert scipy.stats.chisquare(counts, p / p.sum() * row.size).pvalue > 1e-3


def test_categorical_never_picks_minus_inf_logits_and_takes_int32(device):
    logits = gt.constant([[-np.inf, 0.0, -np.inf, 1.0]], dtype=gt.float64)
    s = gt.random.categorical(logits, 500, dtype=gt.int32, seed=1).numpy()
    assert s.dtype == np.int32 and set(np.unique(s)) <= {1, 3}


def test_shuffle_permutes_rows_deterministically(device):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    gt.random.set_seed(3)
    a = gt.random.shuffle(x).numpy()
    gt.random.set_seed(3)
    b = gt.random.shuffle(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)
    np.testing.assert_array_equal(np.sort(a[:, 0]), x[:, 0])
    np.testing.assert_array_equal(a[:, 1], a[:, 0] + 1)  # rows move whole


def test_shuffle_of_a_scalar_or_single_row_is_unchanged(device):
    assert gt.random.shuffle(5).numpy() == 5
    np.testing.assert_array_equal(gt.random.shuffle([[1, 2]]).numpy(), [[1, 2]])


# -------------------------------------------------------------- dtypes and shapes
SHAPE_CASES = [
    ([2, 3], (2, 3)),
    ((4,), (4,)),
    ([], ()),
    ([0, 5], (0, 5)),
    (gt.TensorShape([3, 1]), (3, 1)),
    (np.array([2, 2], np.int64), (2, 2)),
]
DRAWS = {
    "normal": lambda shape, dtype: gt.random.normal(shape, dtype=dtype, seed=1),
    "uniform": lambda shape, dtype: gt.random.uniform(shape, dtype=dtype, seed=1),
    "truncated_normal": lambda shape, dtype: gt.random.truncated_normal(shape, dtype=dtype, seed=1),
    "generator_normal": lambda shape, dtype: gt.random.Generator.from_seed(1).normal(shape, dtype=dtype),
    "stateless_uniform": lambda shape, dtype: gt.random.stateless_uniform(shape, [1, 2], dtype=dtype),
}


@pytest.mark.parametrize("draw", DRAWS, ids=list(DRAWS))
@pytest.mark.parametrize("dtype", [gt.float16, gt.bfloat16, gt.float32, gt.float64])
@pytest.mark.parametrize("shape, expected", SHAPE_CASES)
def test_shapes_and_dtypes(device, draw, dtype, shape, expected):
    t = DRAWS[draw](shape, dtype)
    assert t.shape == expected and t.dtype == dtype
    assert t.device == device.name


def test_shape_from_a_tensor(device):
    assert gt.random.normal(gt.constant([3, 2])).shape == (3, 2)


def test_tensor_mean_and_stddev_broadcast(device):
    mean = gt.constant([0.0, 100.0, -100.0])
    x = gt.random.normal([1000, 3], mean=mean, stddev=gt.constant([1.0, 1.0, 0.0]), seed=1).numpy()
    assert abs(x[:, 1].mean() - 100.0) < 0.2
    np.testing.assert_array_equal(x[:, 2], -100.0)


# -------------------------------------------------------------- Generator
def test_generator_from_seed_is_reproducible_and_advances():
    g1, g2 = gt.random.Generator.from_seed(7), gt.random.Generator.from_seed(7)
    a1, a2 = g1.normal([5]).numpy(), g1.normal([5]).numpy()
    np.testing.assert_array_equal(a1, g2.normal([5]).numpy())
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(g1.state.numpy()[:2], [2, 0])
    g1.reset_from_seed(7)
    np.testing.assert_array_equal(g1.normal([5]).numpy(), a1)


def test_generator_stream_uses_key_and_counter_of_its_state():
    g = gt.random.Generator.from_seed(7)
    key = ref_scramble(7, 0)[0]
    assert int(g.state.numpy()[2]) & ((1 << 64) - 1) == key
    g.skip(3)
    got = g.uniform([5]).numpy()
    np.testing.assert_array_equal(got, [(w >> 8) * 2.0**-24 for w in ref_words(key, 3, 5)])
    assert g.state.dtype == gt.int64 and g.state.shape == (3,)


def test_generator_copy_from_state_and_key_counter_give_the_same_stream():
    g = gt.random.Generator.from_seed([1, 2])
    g.uniform([3])
    copies = [
        gt.random.Generator(copy_from=g),
        gt.random.Generator.from_state(g.state, alg="philox"),
        gt.random.Generator.from_key_counter(g.key, [int(g.state.numpy()[0]), 0], alg=None),
    ]
    expected = g.uniform([4]).numpy()
    for c in copies:
        np.testing.assert_array_equal(c.uniform([4]).numpy(), expected)


def test_generator_split_gives_independent_deterministic_generators():
    def children():
        return [c.uniform([4]).numpy() for c in gt.random.Generator.from_seed(3).split(3)]

    a, b = children(), children()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert len({x.tobytes() for x in a}) == 3


def test_generator_make_seeds_and_full_int():
    g = gt.random.Generator.from_seed(1)
    seeds = g.make_seeds(4)
    assert seeds.shape == (2, 4) and seeds.dtype == gt.int64
    assert g.uniform_full_int([3]).dtype == gt.uint64
    assert g.uniform_full_int([3], dtype=gt.int32).dtype == gt.int32
    x = g.uniform([1000], minval=-4, maxval=4, dtype=gt.int32).numpy()
    assert x.min() == -4 and x.max() == 3


def test_non_deterministic_and_global_generators():
    a = gt.random.Generator.from_non_deterministic_state().uniform([4]).numpy()
    b = gt.random.Generator.from_non_deterministic_state().uniform([4]).numpy()
    assert not np.array_equal(a, b)
    g = gt.random.get_global_generator()
    assert g is gt.random.get_global_generator()
    mine = gt.random.Generator.from_seed(5)
    gt.random.set_global_generator(mine)
    assert gt.random.get_global_generator() is mine
    gt.random.set_global_generator(g)


def test_generator_truncated_normal_stays_within_bounds():
    x = gt.random.Generator.from_seed(2).truncated_normal([5000], mean=-1.0, stddev=3.0).numpy()
    assert x.min() >= -7.0 and x.max() <= 5.0


# -------------------------------------------------------------- errors
ERRORS = [
    ("int uniform without maxval", lambda: gt.random.uniform([2], dtype=gt.int32), ValueError, "maxval"),
    (
        "int uniform with minval >= maxval",
        lambda: gt.random.uniform([2], minval=5, maxval=5, dtype=gt.int64),
        InvalidArgumentError,
        "minval < maxval",
    ),
    (
        "int bound out of dtype range",
        lambda: gt.random.uniform([2], maxval=2**40, dtype=gt.int32),
        InvalidArgumentError,
        "int32",
    ),
    ("negative dimension", lambda: gt.random.normal([2, -1]), InvalidArgumentError, "negative"),
    ("scalar shape", lambda: gt.random.normal(3), InvalidArgumentError, "vector"),
    ("float dimension", lambda: gt.random.normal([2.5]), TypeError, "integer"),
    ("matrix shape tensor", lambda: gt.random.normal(gt.constant([[2]])), InvalidArgumentError, "vector"),
    ("normal of ints", lambda: gt.random.normal([2], dtype=gt.int32), TypeError, "int32"),
    ("uniform of bool", lambda: gt.random.uniform([2], dtype=gt.bool), TypeError, "bool"),
    (
        "stateless seed of 3",
        lambda: gt.random.stateless_normal([2], seed=[1, 2, 3]),
        InvalidArgumentError,
        "[2]",
    ),
    (
        "stateless float seed",
        lambda: gt.random.stateless_uniform([2], seed=[1.0, 2.0]),
        InvalidArgumentError,
        "seed",
    ),
    ("threefry", lambda: gt.random.Generator.from_seed(1, alg="threefry"), InvalidArgumentError, "Philox"),
    ("bad generator state", lambda: gt.random.Generator(state=[1, 2]), InvalidArgumentError, "state"),
    ("generator without state", lambda: gt.random.Generator(), ValueError, "from_seed"),
    ("non-integer seed", lambda: gt.random.normal([2], seed=1.5), TypeError, "seed"),
    (
        "categorical of a vector",
        lambda: gt.random.categorical(gt.constant([0.0, 1.0]), 3),
        InvalidArgumentError,
        "matrix",
    ),
    (
        "categorical float output",
        lambda: gt.random.categorical([[0.0, 1.0]], 3, dtype=gt.float32),
        TypeError,
        "int32 or int64",
    ),
    (
        "categorical without classes",
        lambda: gt.random.categorical(np.zeros((2, 0), np.float32), 3),
        InvalidArgumentError,
        "no classes",
    ),  # fmt: skip
    (
        "full-int of floats",
        lambda: gt.random.Generator.from_seed(1).uniform_full_int([2], gt.float32),
        TypeError,
        "float32",
    ),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_bad_arguments_raise_tf_error_classes(case):
    _, call, cls, text = case
    with pytest.raises(cls, match=None) as info:
        call()
    assert text in str(info.value)


def test_errors_do_not_advance_the_seed_counter():
    gt.random.set_seed(1)
    expected = gt.random.uniform([3]).numpy()
    gt.random.set_seed(1)
    with pytest.raises(ValueError):
        gt.random.uniform([3], dtype=gt.int32)
    np.testing.assert_array_equal(gt.random.uniform([3]).numpy(), expected)


def test_docstring_examples_run():
    import doctest

    from gputensor.ops import random_ops

    with gt.device("/CPU:0"):
        result = doctest.testmod(random_ops, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_stateless_categorical_depends_on_the_seed_only(device):
    logits = np.log(np.array([[0.2, 0.3, 0.5]], np.float64))
    a = gt.random.stateless_categorical(logits, 20_000, seed=[4, 5]).numpy()
    np.testing.assert_array_equal(a, gt.random.stateless_categorical(logits, 20_000, seed=[4, 5]).numpy())
    assert a.dtype == np.int64 and a.shape == (1, 20_000)
    assert not np.array_equal(a, gt.random.stateless_categorical(logits, 20_000, seed=[4, 6]).numpy())
    counts = np.bincount(a[0], minlength=3)
    assert scipy.stats.chisquare(counts, np.exp(logits[0]) * a.size).pvalue > 1e-3
    with pytest.raises(InvalidArgumentError, match="stateless_categorical"):
        gt.random.stateless_categorical([1.0, 2.0], 3, seed=[1, 2])


def test_small_draws_take_python_philox_blocks_with_the_same_stream(monkeypatch):
    # Up to _SCALAR_BLOCKS blocks run on Python ints (a few us, where the array rounds cost
    # ~50 us whatever the size); both paths must give the same words.
    from gputensor.backend.cpu import random as cpu_random

    for n in (1, 3, cpu_random._SCALAR_BLOCKS, cpu_random._SCALAR_BLOCKS + 1):
        index = np.arange(n, dtype=np.uint64) + np.uint64(2**32 - 2)  # crosses the high counter word
        small = cpu_random.blocks(0x0123456789ABCDEF, 0xFEDCBA9876543210, index)
        monkeypatch.setattr(cpu_random, "_SCALAR_BLOCKS", -1)
        assert np.array_equal(small, cpu_random.blocks(0x0123456789ABCDEF, 0xFEDCBA9876543210, index))
        monkeypatch.undo()


def test_generator_draws_in_a_function_continue_its_eager_stream():
    g, ref = gt.random.Generator.from_seed(11), gt.random.Generator.from_seed(11)
    draw = gt.function(lambda: (g.normal([2, 3]), g.uniform([4], minval=0, maxval=9, dtype=gt.int32)))
    first = g.normal([2])  # eager, then two traced runs, then eager again: one stream
    runs = [draw(), draw()]
    last = g.normal([2])
    np.testing.assert_array_equal(first.numpy(), ref.normal([2]).numpy())
    for normal, ints in runs:
        np.testing.assert_array_equal(normal.numpy(), ref.normal([2, 3]).numpy())
        np.testing.assert_array_equal(
            ints.numpy(), ref.uniform([4], minval=0, maxval=9, dtype=gt.int32).numpy()
        )
    np.testing.assert_array_equal(last.numpy(), ref.normal([2]).numpy())
    np.testing.assert_array_equal(g.state.numpy(), ref.state.numpy())  # the counter moved on in the graph
    g.reset_from_seed(11)  # the graph reads the state when it runs
    np.testing.assert_array_equal(draw()[0].numpy(), gt.random.Generator.from_seed(11).normal([2, 3]).numpy())


def test_generator_draw_with_a_shape_known_only_when_the_function_runs():
    g, ref = gt.random.Generator.from_seed(3), gt.random.Generator.from_seed(3)

    @gt.function(input_signature=[gt.TensorSpec([None], gt.float32)])
    def noisy(x):
        return x + g.normal(gt.shape(x))

    x = gt.zeros([5])
    np.testing.assert_array_equal(noisy(x).numpy(), ref.normal([5]).numpy())
    np.testing.assert_array_equal(noisy(gt.zeros([2])).numpy(), ref.normal([2]).numpy())


def test_checkpoint_restores_a_generator_stream(tmp_path):
    g = gt.random.Generator.from_seed(1)
    cp = gt.train.Checkpoint(generator=g)
    g.normal([])
    cp.write(str(tmp_path / "ckpt"))
    saved = [g.normal([3]).numpy(), g.normal([3]).numpy()]
    cp.restore(str(tmp_path / "ckpt"))
    np.testing.assert_array_equal(g.normal([3]).numpy(), saved[0])
    np.testing.assert_array_equal(g.normal([3]).numpy(), saved[1])


def test_saved_model_with_a_generator_continues_from_the_saved_state(tmp_path):
    class Noise(gt.Module):
        def __init__(self):
            self.g = gt.random.Generator.from_seed(0)

        @gt.function
        def __call__(self):
            return self.g.normal([2])

    mod = Noise()
    assert mod.variables == ()  # as TF's: a Generator is not a Module
    mod()
    gt.saved_model.save(mod, str(tmp_path / "m"))
    expected = [mod().numpy(), mod().numpy()]
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded().numpy(), expected[0])
    np.testing.assert_array_equal(loaded().numpy(), expected[1])
