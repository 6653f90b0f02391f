"""String tensors and gt.strings against Python's own str/bytes methods and ``re``.

The references are Python's: ``bytes.upper``, ``len``, ``bytes.split``, ``re.fullmatch``,
``float()``, ``%`` formats; where TF's output has no Python twin (tf.strings.format's
tensor summaries, as_string's printf forms) the expected text is what TF 2.21 printed.
"""

from __future__ import annotations

import re
import tempfile

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import InvalidArgumentError, UnimplementedError

WORDS = ["hello", "  Mixed Case\t", "", "héllo wörld", "a,b,,c", "42", "-3.5e2", "x\x00y"]


def _bytes(values):
    return [v.encode("utf-8") if isinstance(v, str) else v for v in values]


def _obj(values):
    out = np.empty(len(values), dtype=object)
    out[:] = _bytes(values)
    return out


# ---------------------------------------------------------------- conversion
def test_constant_scalar_and_list_hold_bytes():
    t = gt.constant("a")
    assert t.dtype == gt.string and t.shape == () and t.numpy() == b"a"
    assert type(t.numpy()) is bytes
    v = gt.constant(["a", b"b", "é"])
    assert v.dtype is gt.string and v.shape == (3,)
    np.testing.assert_array_equal(v.numpy(), _obj(["a", b"b", "é"]))
    assert v.numpy().dtype == object
    assert gt.constant([["a", "b"], ["c", "d"]]).shape == (2, 2)
    # NumPy cannot hold str next to non-ASCII bytes in one array; TF (and gputensor) can.
    assert gt.constant(["é", b"\xff"]).numpy().tolist() == ["é".encode(), b"\xff"]
    assert gt.constant("x\x00").numpy() == b"x\x00"  # NumPy's str_ would drop the NUL


@pytest.mark.parametrize(
    "array",
    [np.array(["ab", "c"]), np.array([b"ab", b"c"]), _obj(["ab", "c"]), np.array(["ab", "c"], dtype=object)],
    ids=["str_", "bytes_", "object_bytes", "object_str"],
)
def test_numpy_string_arrays_convert(array):
    t = gt.constant(array)
    assert t.dtype is gt.string
    assert t.numpy().tolist() == [b"ab", b"c"]
    assert gt.convert_to_tensor(array).numpy().tolist() == [b"ab", b"c"]


def test_numpy_string_scalars_and_dtype_names():
    assert gt.constant(np.str_("é")).numpy() == "é".encode()
    assert gt.constant(np.bytes_(b"q")).numpy() == b"q"
    assert gt.as_dtype("string") is gt.string
    for t in (str, bytes, object, np.bytes_, np.str_):
        assert gt.as_dtype(t) is gt.string
    assert gt.string.name == "string" and gt.string.as_numpy_dtype is np.object_
    assert not gt.string.is_numeric and gt.string.is_string
    assert gt.dtypes.string is gt.string
    assert gt.constant("a", dtype=gt.string).numpy() == b"a"


def test_bad_string_conversions_raise():
    with pytest.raises(ValueError, match="mixed types"):
        gt.constant(["a", 1])
    with pytest.raises(ValueError, match="mixed types"):
        gt.constant([1, "a"])
    with pytest.raises(TypeError, match="dtype string"):
        gt.constant(1, dtype=gt.string)
    with pytest.raises(TypeError, match="float32"):
        gt.constant("a", dtype=gt.float32)
    with pytest.raises(TypeError):
        gt.constant(np.array([1, 2], dtype=object))
    with pytest.raises(ValueError, match="non-rectangular"):
        gt.constant([["a"], ["b", "c"]])


# ------------------------------------------------------------------ printing
def test_printing_matches_tf():
    a = gt.constant("aa")
    assert str(a) == "gt.Tensor(b'aa', shape=(), dtype=string)"
    assert repr(a) == "<gt.Tensor: shape=(), dtype=string, numpy=b'aa'>"
    v = gt.constant(["a", "b"])
    assert str(v) == "gt.Tensor([b'a' b'b'], shape=(2,), dtype=string)"
    assert repr(v) == "<gt.Tensor: shape=(2,), dtype=string, numpy=array([b'a', b'b'], dtype=object)>"
    assert str(gt.string) == "<dtype: 'string'>"


def test_gt_print_quotes_strings_as_tf_print(capsys):
    import sys

    gt.print(gt.constant("a"), gt.constant(["a", 'q"\n']), "x", output_stream=sys.stdout)
    assert capsys.readouterr().out == '"a" ["a" "q\\"\\n"] x\n'  # TF 2.21's tf.print output


def test_string_variables_hold_and_assign_strings():
    v = gt.Variable("a")
    assert v.dtype is gt.string
    v.assign("bc")
    assert v.numpy() == b"bc" and (v + "x").numpy() == b"bcx"


# ----------------------------------------------------------------- placement
def test_string_tensors_live_on_the_cpu(device):
    b = gt.constant(["a", "b"])
    x = gt.constant([1, 2])
    made = [b, gt.reshape(b, [2, 1]), b + b, gt.fill([2], "z"), gt.zeros_like(b), gt.concat([b, b], 0),
            gt.strings.upper(b), gt.strings.as_string(x), gt.strings.length(b)]  # fmt: skip
    for t in made:
        assert t.device.endswith("CPU:0"), (t, t.device)
    assert x.device == device.name  # numbers still go where the scope says
    np.testing.assert_array_equal(gt.strings.to_number(gt.strings.as_string(x), gt.int32).numpy(), [1, 2])


# ----------------------------------------------------- generic ops on strings
def test_generic_ops_accept_strings():
    arr = _obj(["a", "b", "c", "d", "e", "f"]).reshape(2, 3)
    t = gt.constant(arr)
    checks = [
        (t + t, arr + arr),
        (t + "!", arr + b"!"),
        ("<" + t, b"<" + arr),
        (gt.add(t, t), arr + arr),
        (t == "b", arr == b"b"),
        (t != "b", arr != b"b"),
        (gt.identity(t), arr),
        (gt.reshape(t, [3, 2]), arr.reshape(3, 2)),
        (gt.transpose(t), arr.T),
        (gt.concat([t, t], axis=1), np.concatenate([arr, arr], 1)),
        (gt.stack([t, t]), np.stack([arr, arr])),
        (gt.unstack(t)[1], arr[1]),
        (gt.gather(t, [2, 0], axis=1), arr[:, [2, 0]]),
        (gt.gather_nd(t, [[1, 2], [0, 0]]), arr[[1, 0], [2, 0]]),
        (t[1, ::-1], arr[1, ::-1]),
        (t[:, 1], arr[:, 1]),
        (t[0, 0], arr[0, 0]),
        (t[t != "a"], arr[arr != b"a"]),
        (gt.broadcast_to(gt.constant("q"), [2, 2]), np.full((2, 2), b"q", dtype=object)),
        (gt.tile(t, [1, 2]), np.tile(arr, (1, 2))),
        (gt.expand_dims(t, 0), arr[None]),
        (gt.squeeze(gt.expand_dims(t, 0)), arr),
        (gt.where(t == "a", t, gt.constant("z")), np.where(arr == b"a", arr, b"z")),
        (gt.fill([2], "z"), np.array([b"z", b"z"], dtype=object)),
        (gt.zeros_like(t), np.full((2, 3), b"", dtype=object)),
        (gt.zeros([2], gt.string), np.array([b"", b""], dtype=object)),
        (gt.reverse(t, [1]), arr[:, ::-1]),
        (gt.unique(gt.constant(["b", "a", "b"]))[0], np.array([b"b", b"a"], dtype=object)),
        (gt.shape(t), [2, 3]),
        (gt.size(t), 6),
        (gt.rank(t), 2),
    ]
    for got, want in checks:
        np.testing.assert_array_equal(got.numpy(), want)
        if np.asarray(want).dtype == object:
            assert got.dtype is gt.string
    assert [x.numpy() for x in gt.constant(["a", "b"])] == [b"a", b"b"]


@pytest.mark.parametrize(
    "fn",
    [lambda a: a * a, lambda a: a - a, lambda a: a / a, lambda a: -a, lambda a: a < a,
     lambda a: gt.reduce_sum(a), lambda a: gt.maximum(a, a), lambda a: gt.abs(a), lambda a: gt.sort(a),
     lambda a: a + 1, lambda a: 2 * a],
    ids=["mul", "sub", "div", "neg", "less", "reduce_sum", "maximum", "abs", "sort", "add_int", "rmul_int"],
)  # fmt: skip
def test_arithmetic_on_strings_raises_invalid_argument(fn):
    with pytest.raises(InvalidArgumentError, match="string"):
        fn(gt.constant(["a", "b"]))


def test_cast_between_strings_and_numbers_is_unimplemented():
    with pytest.raises(UnimplementedError, match="to_number"):
        gt.cast(gt.constant("1"), gt.float32)
    with pytest.raises(UnimplementedError, match="as_string"):
        gt.cast(gt.constant(1), gt.string)


# ------------------------------------------------------------- gt.strings ops
def test_length_upper_lower_strip_against_python():
    t = gt.constant(WORDS)
    raw = _bytes(WORDS)
    S = gt.strings
    assert S.length(t).numpy().tolist() == [len(b) for b in raw]
    assert S.length(t).dtype is gt.int32
    assert S.length(t, unit="UTF8_CHAR").numpy().tolist() == [len(w) for w in WORDS]
    assert S.upper(t).numpy().tolist() == [b.upper() for b in raw]
    assert S.lower(t).numpy().tolist() == [b.lower() for b in raw]
    assert S.upper(t, encoding="utf-8").numpy().tolist() == [w.upper().encode() for w in WORDS]
    assert S.lower("ÀB", encoding="utf-8").numpy() == "àb".encode()
    assert S.strip(t).numpy().tolist() == [b.strip() for b in raw]
    assert S.length("héllo").numpy() == 6 and S.length("héllo").shape == ()


def test_join_and_reduce_join():
    S = gt.strings
    a, b = ["a", "bb", ""], ["x", "y", "z"]
    got = S.join([a, b, "!"], separator="-").numpy().tolist()
    assert got == ["-".join([p, q, "!"]).encode() for p, q in zip(a, b)]
    assert S.join([]).numpy() == b""
    m = [["a", "b", "c"], ["d", "e", "f"]]
    assert S.reduce_join(m).numpy() == b"abcdef"
    assert S.reduce_join(m, axis=0, separator=",").numpy().tolist() == [b"a,d", b"b,e", b"c,f"]
    assert S.reduce_join(m, axis=-1).numpy().tolist() == [b"abc", b"def"]
    assert S.reduce_join(m, axis=1, keepdims=True).shape == (2, 1)
    # TF's order for several axes: the first listed varies fastest.
    assert S.reduce_join(m, axis=[0, 1], separator=",").numpy() == b"a,d,b,e,c,f"
    assert S.reduce_join(m, axis=[1, 0], separator=",").numpy() == b"a,b,c,d,e,f"
    assert S.reduce_join(gt.zeros([0], gt.string)).numpy() == b""
    with pytest.raises(InvalidArgumentError, match="Input shapes do not match"):
        S.join([["a", "b"], ["x", "y", "z"]])
    with pytest.raises(InvalidArgumentError, match="out of range"):
        S.reduce_join(m, axis=2)


def test_substr_against_python_slices():
    S = gt.strings
    s = b"hello"
    for pos in range(-5, 6):
        for n in range(0, 7):
            start = pos if pos >= 0 else len(s) + pos
            assert S.substr("hello", pos, n).numpy() == s[start : start + n], (pos, n)
    got = S.substr(["hello", "ab"], [1, 0], [3, 5]).numpy().tolist()
    assert got == [b"ell", b"ab"]
    assert S.substr("héllo", 1, 2, unit="UTF8_CHAR").numpy() == "él".encode()
    assert S.substr("héllo", 1, 2).numpy() == "héllo".encode()[1:3]
    with pytest.raises(InvalidArgumentError, match="pos 6 out of range"):
        S.substr("hello", 6, 1)
    with pytest.raises(InvalidArgumentError, match="pos -6 out of range"):
        S.substr("hello", -6, 1)
    with pytest.raises(InvalidArgumentError, match="same shape"):
        S.substr(["hello", "ab"], [1, 0], 2)


def test_regex_ops_against_re():
    S = gt.strings
    t = gt.constant(WORDS)
    raw = _bytes(WORDS)
    for pattern in [r"[a-z]+", r"-?\d+(\.\d+)?(e\d+)?", r".*l.*", r""]:
        want = [re.fullmatch(pattern.encode(), b) is not None for b in raw]
        assert S.regex_full_match(t, pattern).numpy().tolist() == want
    assert S.regex_replace(t, r"[aeiou]", "_").numpy().tolist() == [re.sub(rb"[aeiou]", b"_", b) for b in raw]
    assert S.regex_replace("aaa bb", "a+", r"<\0>").numpy() == b"<aaa> bb"
    assert S.regex_replace("ab ab", "(a)(b)", r"\2\1", replace_global=False).numpy() == b"ba ab"
    assert S.regex_replace("a.b", r"\.", r"\\").numpy() == b"a\\b"
    with pytest.raises(InvalidArgumentError, match="Invalid pattern"):
        S.regex_full_match("a", "(")
    with pytest.raises(InvalidArgumentError, match="group"):
        S.regex_replace("a", "a", r"\1")


def test_to_number_against_python():
    S = gt.strings
    texts = ["1.5", " 2 ", "-3e2", "inf", "0.1", "+7", "1e-3"]
    got = S.to_number(texts).numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([float(x) for x in texts], np.float32))
    np.testing.assert_array_equal(S.to_number("0.1", gt.float64).numpy(), 0.1)
    assert S.to_number(["12", "-3", " 4"], out_type=gt.int32).numpy().tolist() == [12, -3, 4]
    assert S.to_number("9000000000", out_type=gt.int64).numpy() == 9000000000
    for bad, out in [("abc", gt.float32), ("", gt.float32), ("1.5", gt.int32), ("1_0", gt.float32),
                     ("0x10", gt.int64), ("9000000000", gt.int32)]:  # fmt: skip
        with pytest.raises(InvalidArgumentError, match="could not correctly convert string"):
            S.to_number(bad, out_type=out)
    with pytest.raises(InvalidArgumentError, match="int8"):
        S.to_number("1", out_type=gt.int8)


def test_as_string_against_printf():
    S = gt.strings
    x = np.array([3.5, -2.25, 0.1, 1234.5], np.float32)
    assert S.as_string(x).numpy().tolist() == [(b"%f" % v) for v in x.astype(float)]
    assert S.as_string(x, precision=1).numpy().tolist() == [(b"%.1f" % v) for v in x.astype(float)]
    assert S.as_string(x, scientific=True).numpy().tolist() == [(b"%e" % v) for v in x.astype(float)]
    assert S.as_string(x, shortest=True).numpy().tolist() == [(b"%g" % v) for v in x.astype(float)]
    assert S.as_string([7, -7], width=4).numpy().tolist() == [b"   7", b"  -7"]
    assert S.as_string(gt.constant([7, -7], gt.int64), width=5, fill="0").numpy().tolist() == [
        b"00007",
        b"-0007",
    ]
    assert S.as_string([True, False]).numpy().tolist() == [b"true", b"false"]
    assert S.as_string(gt.constant(1 + 2j, gt.complex64)).numpy() == b"(1.000000,2.000000)"
    assert S.as_string("already").numpy() == b"already"
    with pytest.raises(InvalidArgumentError, match="both scientific and shortest"):
        S.as_string(1.0, scientific=True, shortest=True)
    with pytest.raises(InvalidArgumentError, match="precision"):
        S.as_string(1, precision=2)
    with pytest.raises(InvalidArgumentError, match="one or fewer"):
        S.as_string(1, fill="ab")


def test_format_as_tf_prints():
    f = gt.strings.format
    # Expected texts: what tf.strings.format printed in TF 2.21.
    assert f("{}", gt.constant("a")).numpy() == b'"a"'
    assert f("{}", gt.constant(["a", "b"])).numpy() == b'["a" "b"]'
    assert f("x={} y={}", (gt.constant([1.5, 2.0, 0.1]), gt.constant(3))).numpy() == b"x=[1.5 2 0.1] y=3"
    assert f("{}", gt.range(10)).numpy() == b"[0 1 2 ... 7 8 9]"
    assert f("{}", gt.reshape(gt.range(12), [3, 4])).numpy() == b"[[0 1 2 3]\n [4 5 6 7]\n [8 9 10 11]]"
    assert f("{}", gt.reshape(gt.range(40), [5, 8])).numpy() == (
        b"[[0 1 2 ... 5 6 7]\n [8 9 10 ... 13 14 15]\n [16 17 18 ... 21 22 23]\n"
        b" [24 25 26 ... 29 30 31]\n [32 33 34 ... 37 38 39]]"
    )
    assert f("{}", gt.constant([True, False])).numpy() == b"[1 0]"
    assert f("{}", gt.constant(1e10)).numpy() == b"1e+10"
    assert f("{}", gt.constant(1 / 3, gt.float64)).numpy() == b"0.33333333333333331"
    assert f("{}", gt.zeros([0])).numpy() == b"[]"
    assert f("{}", gt.zeros([2, 0])).numpy() == b"[\n ...]"
    assert f("{}", gt.range(10), summarize=-1).numpy() == b"[0 1 2 3 4 5 6 7 8 9]"
    assert f("{}", gt.range(10), summarize=2).numpy() == b"[0 1 ... 8 9]"
    assert f("{}", gt.reshape(gt.range(24), [2, 3, 4])).numpy() == (
        b"[[[0 1 2 3]\n  [4 5 6 7]\n  [8 9 10 11]]\n\n [[12 13 14 15]\n  [16 17 18 19]\n  [20 21 22 23]]]"
    )
    assert f("<>", [], placeholder="{}").numpy() == b"<>"
    assert f("%s!", [gt.constant('q"\n')], placeholder="%s").numpy() == b'"q\\"\\n"!'
    with pytest.raises(ValueError, match="expects 2 tensors"):
        f("{} {}", [1])


def test_splits_of_scalars_against_python():
    S = gt.strings
    for text in ["a  b c ", "", "a,,b", " lead", "one"]:
        raw = text.encode()
        assert S.split(text).numpy().tolist() == raw.split()
        assert S.split(text, sep=",").numpy().tolist() == raw.split(b",")
        assert S.split(text, sep=",", maxsplit=1).numpy().tolist() == raw.split(b",", 1)
        assert S.bytes_split(text).numpy().tolist() == [raw[i : i + 1] for i in range(len(raw))]
    assert S.split("a b c", maxsplit=1).numpy().tolist() == [b"a", b"b c"]
    assert S.split("abc", sep="").numpy().tolist() == [b"abc"]
    assert S.split("a b").shape == (2,)
    assert S.unicode_split("héllo", "UTF-8").numpy().tolist() == [c.encode() for c in "héllo"]
    assert S.unicode_split(b"a\xffb", "UTF-8").numpy().tolist() == [b"a", "\ufffd".encode(), b"b"]
    assert S.unicode_split(b"a\xffb", "UTF-8", errors="ignore").numpy().tolist() == [b"a", b"b"]
    with pytest.raises(InvalidArgumentError, match="Invalid formatting"):
        S.unicode_split(b"a\xffb", "UTF-8", errors="strict")
    assert S.unicode_split(b"a\xffb", "UTF-8", replacement_char=63).numpy().tolist() == [b"a", b"?", b"b"]


def test_unicode_decode_and_encode_against_python():
    S = gt.strings
    for text in ["アヒル 🦆", "", "héllo", "a\x01b"]:
        codes = [ord(c) for c in text]
        got = S.unicode_decode(text, "UTF-8")
        assert got.dtype is gt.int32 and got.numpy().tolist() == codes
        assert S.unicode_encode(gt.constant(codes, gt.int32), "UTF-8").numpy() == text.encode()
    # Invalid input, as TF 2.21 answers it.
    assert S.unicode_decode(b"a\xffb", "UTF-8").numpy().tolist() == [97, 0xFFFD, 98]
    assert S.unicode_decode(b"a\xffb", "UTF-8", errors="ignore").numpy().tolist() == [97, 98]
    assert S.unicode_decode(b"a\xffb", "UTF-8", replacement_char=63).numpy().tolist() == [97, 63, 98]
    assert S.unicode_decode("a\x01", "UTF-8", replace_control_characters=True).numpy().tolist() == [
        97,
        0xFFFD,
    ]
    with pytest.raises(InvalidArgumentError, match="Invalid formatting"):
        S.unicode_decode(b"a\xffb", "UTF-8", errors="strict")
    rows = S.unicode_encode([[97, 98], [99, 100]], "UTF-8")
    assert rows.shape == (2,) and rows.numpy().tolist() == [b"ab", b"cd"]
    assert S.unicode_encode(gt.zeros([2, 0], gt.int32), "UTF-8").numpy().tolist() == [b"", b""]
    assert S.unicode_encode([97, 0x110000], "UTF-8").numpy() == "a\ufffd".encode()
    assert S.unicode_encode([97, 0xD800], "UTF-8", errors="ignore").numpy() == b"a"
    with pytest.raises(InvalidArgumentError, match="out of range for Unicode"):
        S.unicode_encode([97, -1], "UTF-8", errors="strict")
    with pytest.raises(ValueError, match="rank must be at least 1"):
        S.unicode_encode(97, "UTF-8")
    with pytest.raises(UnimplementedError, match="only UTF-8"):
        S.unicode_decode("a", "UTF-16-BE")


# tf.fingerprint's values (FarmHash Fingerprint64) in TF 2.21 for bytes((i * 7 + 3) % 256 for i
# in range(n)): one length in each of FarmHash's code paths and both sides of their limits.
FINGERPRINTS = [
    (0, 0x9AE16A3B2F90404F), (1, 0xBEC09CC447469D8B), (3, 0x40B4412E33EEFD64), (4, 0xF3C7EE05197A7B92),
    (7, 0x4FEF0B39C12AA9A4), (8, 0x0C97ECBC1E9D2626), (16, 0x7EDA0ED8C837A168), (17, 0xC9518FE63EBF6127),
    (32, 0xA53F806F23A314E8), (33, 0xC24F9D7CE864F0E9), (64, 0x0566266CB579ECA2), (65, 0x77E0867714E6B0E4),
    (128, 0x666823960B3AC271), (129, 0x98206B8579BCA083), (300, 0xDFBCED116079AF13),
]  # fmt: skip


def test_to_hash_bucket_fast_gives_tf_buckets():
    strings = [bytes((i * 7 + 3) % 256 for i in range(n)) for n, _ in FINGERPRINTS]
    for buckets in (2**62, 1000, 7):
        got = gt.strings.to_hash_bucket_fast(strings, buckets)
        assert got.dtype is gt.int64
        assert got.numpy().tolist() == [fp % buckets for _, fp in FINGERPRINTS]
    assert gt.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3).numpy().tolist() == [0, 2, 2]
    with pytest.raises(InvalidArgumentError, match="num_buckets"):
        gt.strings.to_hash_bucket_fast("a", 0)


@pytest.mark.parametrize(
    "fn",
    [gt.strings.split, gt.strings.bytes_split, lambda x: gt.strings.unicode_split(x, "UTF-8"),
     lambda x: gt.strings.unicode_decode(x, "UTF-8")],
)  # fmt: skip
def test_splits_of_rank_one_need_ragged_tensors(fn):
    with pytest.raises(UnimplementedError, match="RaggedTensor"):
        fn(gt.constant(["a b"]))


@pytest.mark.parametrize(
    "fn",
    [gt.strings.length, gt.strings.upper, gt.strings.lower, gt.strings.strip, gt.strings.to_number,
     gt.strings.split, gt.strings.bytes_split, lambda x: gt.strings.substr(x, 0, 1),
     lambda x: gt.strings.regex_full_match(x, "a"), lambda x: gt.strings.regex_replace(x, "a", "b"),
     lambda x: gt.strings.reduce_join(x), lambda x: gt.strings.join([x]),
     lambda x: gt.strings.to_hash_bucket_fast(x, 3)],
)  # fmt: skip
def test_string_ops_reject_numeric_tensors(fn):
    with pytest.raises(InvalidArgumentError, match="must be a string tensor, got a int32 tensor"):
        fn(gt.constant(1))
    with pytest.raises(TypeError, match="dtype string"):
        fn(1)


# ---------------------------------------------------------------- gt.function
def _pipeline(s, x):
    S = gt.strings
    up = S.upper(S.strip(s)) + "!"
    n = S.length(up)
    joined = S.join([up, S.as_string(n)], separator=":")
    number = S.to_number(S.regex_replace(S.substr(s, 0, 2), "[^0-9]", "0"), out_type=gt.int32) * x
    return joined, S.reduce_join(joined, separator="|"), number, gt.reshape(s, [-1, 1]), s == "12"


def test_traced_string_ops_match_eager():
    s = gt.constant([" 12ab", "3c ", "xyz", "12"])
    x = gt.constant(2)
    eager = _pipeline(s, x)
    traced = gt.function(_pipeline)
    for got in (traced(s, x), traced(gt.constant(["99", "1"]), x)):
        assert all(g.dtype == e.dtype for g, e in zip(got, eager))
    for g, e in zip(traced(s, x), eager):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
    concrete = traced.get_concrete_function(gt.TensorSpec([None], gt.string), gt.TensorSpec([], gt.int32))
    for g, e in zip(concrete(s, x), eager):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert "string_upper" in concrete.graph.as_text()


def test_function_guide_double():
    lines = []

    @gt.function
    def double(a):
        lines.append(str(a))
        return a + a

    assert str(double(gt.constant("a"))) == "gt.Tensor(b'aa', shape=(), dtype=string)"
    assert lines == ['Tensor("a:0", shape=(), dtype=string)']
    concrete = double.get_concrete_function(gt.constant("a"))
    assert concrete(a=gt.constant("b")).numpy() == b"bb"
    vector = double.get_concrete_function(gt.TensorSpec(shape=[None], dtype=gt.string))
    assert vector(gt.constant(["a", "b"])).numpy().tolist() == [b"aa", b"bb"]
    with pytest.raises(InvalidArgumentError):
        vector(gt.constant([1]))


def test_saved_model_round_trips_string_functions():
    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([None], gt.string)])
        def f(self, s):
            return gt.strings.join([gt.strings.upper(s), gt.constant(["-x\x00", "é"])], separator="/")

    m = M()
    s = gt.constant(["ab", "c"])
    want = m.f(s).numpy()
    with tempfile.TemporaryDirectory() as d:
        gt.saved_model.save(m, d)
        loaded = gt.saved_model.load(d)
        np.testing.assert_array_equal(loaded.f(s).numpy(), want)
    assert want.tolist() == [b"AB/-x\x00", "C/é".encode()]


def test_saved_model_refuses_string_variables(tmp_path):
    class M(gt.Module):
        def __init__(self):
            self.v = gt.Variable("a")

        @gt.function
        def f(self, s):
            return self.v + s

    m = M()
    assert m.f(gt.constant("b")).numpy() == b"ab"
    with pytest.raises(UnimplementedError, match="holds strings"):
        gt.saved_model.save(m, str(tmp_path / "m"))


def test_onnx_export_refuses_strings(tmp_path):
    with pytest.raises(UnimplementedError, match="string tensors"):
        gt.onnx.export(
            gt.function(lambda s: gt.reshape(s, [-1])),
            str(tmp_path / "m.onnx"),
            [gt.TensorSpec([2], gt.string)],
        )


def _choose(s, flag):
    if flag > 0:  # AutoGraph: an If node with string outputs
        out = gt.strings.upper(s)
    else:
        out = s + "!"
    return out


def _digits(n):
    acc = gt.constant("")
    for i in gt.range(n):  # a While node carrying a string loop variable
        acc = acc + gt.strings.as_string(i)
    return acc


def test_strings_through_control_flow_map_fn_and_datasets():
    s = gt.constant(["a", "b"])
    choose = gt.function(_choose)
    for flag in (1, 0):
        np.testing.assert_array_equal(
            choose(s, gt.constant(flag)).numpy(), _choose(s, gt.constant(flag)).numpy()
        )
    assert gt.function(_digits)(gt.constant(4)).numpy() == "".join(str(i) for i in range(4)).encode()
    upper = gt.function(lambda x: gt.map_fn(gt.strings.upper, x))
    assert upper(gt.constant(["a", "bc"])).numpy().tolist() == [b"A", b"BC"]
    ds = gt.data.Dataset.from_tensor_slices(["1 2", "3 4", "5"]).map(gt.strings.length)
    assert [int(x) for x in ds] == [3, 3, 1]
