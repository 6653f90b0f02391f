"""Attention layers against NumPy formulas, finite differences, traced runs and Keras's rules."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models, optimizers
from gputensor.keras import losses as losses_
from gputensor.keras.masks import get_keras_mask, set_keras_mask

RNG = np.random.default_rng(3)


def _randomize(layer, scale=0.5, seed=0):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [scale * rng.standard_normal(w.shape).astype(w.dtype.as_numpy_dtype) for w in layer.weights]
    )


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- EinsumDense
@pytest.mark.parametrize(
    "equation, output_shape, bias_axes, in_shape, kernel, bias, out",
    [
        ("ab,bc->ac", 4, "c", (2, 3), (3, 4), (4,), (2, 4)),
        ("abc,cd->abd", (None, 4), "d", (2, 5, 3), (3, 4), (4,), (2, 5, 4)),
        ("abc,cde->abde", (None, 2, 3), "de", (2, 5, 4), (4, 2, 3), (2, 3), (2, 5, 2, 3)),
        ("...b,bc->...c", 4, "c", (2, 5, 3), (3, 4), (4,), (2, 5, 4)),
        ("ab...,bc->ac...", (4,), "c", (2, 3, 5), (3, 4), (4, 1), (2, 4, 5)),
        ("abcd,cde->abe", (None, 6), None, (2, 5, 3, 4), (3, 4, 6), None, (2, 5, 6)),
    ],
)
def test_einsum_dense_matches_numpy(equation, output_shape, bias_axes, in_shape, kernel, bias, out):
    layer = layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, activation="relu")
    x = RNG.standard_normal(in_shape).astype(np.float32)
    layer(x)
    _randomize(layer)
    assert tuple(layer.kernel.shape) == kernel
    assert (None if layer.bias is None else tuple(layer.bias.shape)) == bias
    ref = np.einsum(equation, x, layer.kernel.numpy())
    if layer.bias is not None:
        ref = ref + layer.bias.numpy()
    got = layer(x).numpy()
    assert got.shape == out
    np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(in_shape) == out


def test_einsum_dense_glorot_fans_follow_the_kernel_axes():
    # Keras 3.15: kernel (8, 4, 16) of "abc,cde->abde": fan_in 8, fan_out 4 * 16.
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 4, 16), bias_axes="de")
    layer(gt.zeros([1, 2, 8]))
    limit = np.sqrt(6.0 / (8 + 64))
    k = layer.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit
    assert np.all(layer.bias.numpy() == 0)


def test_einsum_dense_errors_and_config():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab,bc", output_shape=3)
    with pytest.raises(ValueError, match="Bias dimension 'z'"):
        layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="z")(gt.zeros([2, 4]))
    with pytest.raises(ValueError, match="do not match at shared dimension"):
        layers.EinsumDense("abc,cd->abd", output_shape=(7, 3))(gt.zeros([2, 5, 4]))
    layer = layers.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d", name="ed")
    layer(gt.zeros([2, 5, 4]))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(gt.zeros([2, 4]))
    config = layer.get_config()
    assert config["equation"] == "abc,cd->abd" and config["output_shape"] == (None, 3)
    assert config["bias_axes"] == "d" and config["activation"] == "linear"
    clone = layers.deserialize(layers.serialize(layer))
    clone(gt.zeros([2, 5, 4]))
    clone.set_weights(layer.get_weights())
    x = RNG.standard_normal((2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy())
    with pytest.raises(ValueError, match="lora_rank"):
        layers.EinsumDense("ab,bc->ac", output_shape=3, lora_rank=2)


# ---------------------------------------------------------------------------- MultiHeadAttention
def _np_mha(layer, q, v, k=None, mask=None, fused=True):
    """NumPy multi-head attention for 3-D inputs with the layer's weights; ``mask`` (B, T, S)."""
    k = v if k is None else k
    w = {"/".join(x.path.split("/")[-2:]): x.numpy() for x in layer.weights}

    def proj(x, name):
        y = np.einsum("abc,cde->abde", x, w[f"{name}/kernel"])
        return y + w[f"{name}/bias"] if f"{name}/bias" in w else y

    qp, kp, vp = proj(q, "query"), proj(k, "key"), proj(v, "value")
    scores = np.einsum("aecd,abcd->acbe", kp, qp / np.sqrt(layer.key_dim))
    if mask is not None:
        m = np.broadcast_to(mask[:, None], scores.shape)
        scores = np.where(m, scores, -1e9)
    probs = _np_softmax(scores)
    if mask is not None and not fused:
        probs = np.where(m, probs, 0.0)
    out = np.einsum("acbe,aecd->abcd", probs, vp)
    y = np.einsum("abcd,cde->abe", out, w["attention_output/kernel"])
    if "attention_output/bias" in w:
        y = y + w["attention_output/bias"]
    return y, probs


def test_mha_self_and_cross_attention_match_numpy():
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2)
    q = RNG.standard_normal((2, 5, 6)).astype(np.float32)
    v = RNG.standard_normal((2, 7, 3)).astype(np.float32)
    k = RNG.standard_normal((2, 7, 5)).astype(np.float32)
    mha(q, v, key=k)
    _randomize(mha)
    out, scores = mha(q, v, key=k, return_attention_scores=True)
    ref, ref_scores = _np_mha(mha, q, v, k)
    assert out.shape == (2, 5, 6) and scores.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-4, atol=1e-6)
    # key defaults to value
    mha2 = layers.MultiHeadAttention(2, 3, use_bias=False)
    mha2(q, q)
    _randomize(mha2)
    assert len(mha2.weights) == 4
    np.testing.assert_allclose(mha2(q, q).numpy(), _np_mha(mha2, q, q)[0], rtol=1e-4, atol=1e-5)


def test_mha_masks_padding_causal_attention_mask():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q = RNG.standard_normal((2, 4, 5)).astype(np.float32)
    v = RNG.standard_normal((2, 6, 5)).astype(np.float32)
    mha(q, v)
    _randomize(mha)
    qm = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 1, 0], [1, 1, 1, 1, 1, 1]], bool)
    am = RNG.random((2, 4, 6)) > 0.2
    causal = np.tril(np.ones((4, 6), bool))[None]
    # value_mask given; attention_mask; causal: ANDed.
    got = mha(q, v, value_mask=vm, attention_mask=am, use_causal_mask=True).numpy()
    np.testing.assert_allclose(
        got, _np_mha(mha, q, v, mask=vm[:, None, :] & am & causal)[0], rtol=1e-4, atol=1e-5
    )
    # Masks carried by the tensors (as Embedding(mask_zero) leaves them): query and value.
    qt, vt = gt.constant(q), gt.constant(v)
    set_keras_mask(qt, gt.constant(qm))
    set_keras_mask(vt, gt.constant(vm))
    out, scores = mha(qt, vt, return_attention_scores=True)
    full = qm[:, :, None] & vm[:, None, :]
    ref, ref_scores = _np_mha(mha, q, v, mask=full, fused=False)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-4, atol=1e-6)
    assert np.all(scores.numpy()[0, :, 3] == 0)  # a padded query row attends to nothing
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), qm)  # the output carries the query's mask
    assert get_keras_mask(qt) is not None and get_keras_mask(vt) is not None  # inputs keep theirs
    # Without scores Keras's fused kernel gives a fully masked row uniform weights.
    np.testing.assert_allclose(mha(qt, vt).numpy(), _np_mha(mha, q, v, mask=full)[0], rtol=1e-4, atol=1e-5)
    # As Keras 3.15, the query's mask is the one the query carries: query_mask= alone is unused
    # (real Keras gives the same output with and without it).
    np.testing.assert_allclose(mha(q, v, query_mask=qm).numpy(), mha(q, v).numpy())
    # key_mask joins the value's.
    km = np.array([[1, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]], bool)
    got = mha(q, v, key=v, value_mask=vm, key_mask=km).numpy()
    np.testing.assert_allclose(got, _np_mha(mha, q, v, mask=(vm & km)[:, None, :])[0], rtol=1e-4, atol=1e-5)


def test_mha_sliding_window_and_gate():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=2)
    x = RNG.standard_normal((2, 5, 4)).astype(np.float32)
    mha(x, x)
    _randomize(mha)
    band = np.abs(np.arange(5)[:, None] - np.arange(5)[None]) < 2
    np.testing.assert_allclose(
        mha(x, x).numpy(), _np_mha(mha, x, x, mask=band[None])[0], rtol=1e-4, atol=1e-5
    )
    gated = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True)
    gated(x, x)
    assert [w.path for w in gated.weights][::2] == [
        f"{gated.name}/{sub}/kernel" for sub in ("query", "key", "gate", "value", "attention_output")
    ]
    assert [w.path.split("/")[-2] for w in gated.weights][::2] == [
        "query",
        "key",
        "gate",
        "value",
        "attention_output",
    ]
    assert "_gate_dense" in gated._keras_saving_children()


def test_mha_attention_axes_on_4d_input_matches_numpy():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))
    x = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    out, scores = mha(x, x, return_attention_scores=True)
    assert mha.attention_axes == (1, 2) and scores.shape == (2, 2, 3, 4, 3, 4)
    w = [t.numpy() for t in mha.weights]
    qp = np.einsum("abcd,def->abcef", x, w[0]) + w[1]
    kp = np.einsum("abcd,def->abcef", x, w[2]) + w[3]
    vp = np.einsum("abcd,def->abcef", x, w[4]) + w[5]
    s = np.einsum("afgde,abcde->adbcfg", kp, qp / np.sqrt(3))
    p = np.exp(s - s.max(axis=(-2, -1), keepdims=True))
    p = p / p.sum(axis=(-2, -1), keepdims=True)
    o = np.einsum("adbcfg,afgde->abcde", p, vp)
    ref = np.einsum("abcde,def->abcf", o, w[6]) + w[7]
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)


def test_mha_dropout_training_flag_and_traced():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=1)
    x = RNG.standard_normal((2, 6, 4)).astype(np.float32)
    infer = mha(x, x).numpy()
    np.testing.assert_allclose(mha(x, x, training=False).numpy(), infer)
    a, b = mha(x, x, training=True).numpy(), mha(x, x, training=True).numpy()
    assert not np.allclose(a, infer) and not np.allclose(a, b)
    fn = gt.function(lambda t: mha(t, t, training=True))
    c, d = fn(gt.constant(x)).numpy(), fn(gt.constant(x)).numpy()
    assert not np.allclose(c, d)  # a new mask per traced call
    # Dropped weights are zero, kept ones scaled by 2 (the scores returned are before dropout).
    _, probs = mha(x, x, return_attention_scores=True, training=True)
    np.testing.assert_allclose(probs.numpy().sum(-1), 1.0, rtol=1e-5)


def test_mha_traced_matches_eager_with_masks():
    ids = models.Input((6,), dtype="int32")
    e = layers.Embedding(12, 8, mask_zero=True)(ids)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(e, e, use_causal_mask=True)
    model = models.Model(ids, layers.GlobalAveragePooling1D()(a))
    x = np.array([[3, 1, 4, 1, 0, 0], [2, 7, 1, 8, 2, 8]], np.int32)
    eager = model(x).numpy()
    traced = gt.function(lambda t: model(t))(gt.constant(x)).numpy()
    np.testing.assert_allclose(traced, eager, rtol=1e-6, atol=1e-6)
    assert np.isfinite(eager).all()


def test_mha_gradients_match_finite_differences():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2, dtype="float64")
    q = RNG.standard_normal((1, 3, 3))
    v = RNG.standard_normal((1, 4, 3))
    vm = np.array([[1, 1, 0, 1]], bool)
    qt, vt = gt.constant(q), gt.constant(v)
    with gt.GradientTape() as tape:
        tape.watch([qt, vt])
        y = gt.reduce_sum(gt.sin(mha(qt, vt, value_mask=vm, use_causal_mask=True)))
    gq, gv = tape.gradient(y, [qt, vt])

    def f(qq, vv):
        return float(np.sum(np.sin(mha(qq, vv, value_mask=vm, use_causal_mask=True).numpy())))

    eps = 1e-6
    for x, g, which in ((q, gq, 0), (v, gv, 1)):
        num = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            hi, lo = x.copy(), x.copy()
            hi[idx] += eps
            lo[idx] -= eps
            args_hi = (hi, v) if which == 0 else (q, hi)
            args_lo = (lo, v) if which == 0 else (q, lo)
            num[idx] = (f(*args_hi) - f(*args_lo)) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), num, rtol=1e-5, atol=1e-7)


def test_mha_config_round_trip_and_errors():
    mha = layers.MultiHeadAttention(4, 8, value_dim=6, dropout=0.1, output_shape=(5,), name="att")
    x = RNG.standard_normal((2, 3, 7)).astype(np.float32)
    mha(x, x)
    config = mha.get_config()
    assert config["num_heads"] == 4 and config["key_dim"] == 8 and config["value_dim"] == 6
    assert config["output_shape"] == (5,) and config["attention_axes"] == (1,) and config["seed"] is None
    clone = layers.MultiHeadAttention.from_config(config)
    clone(x, x)
    clone.set_weights(mha.get_weights())
    np.testing.assert_allclose(clone(x, x).numpy(), mha(x, x).numpy(), rtol=1e-6)
    assert mha.compute_output_shape((2, 3, 7), (2, 3, 7)) == (2, 3, 5)
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, 2.5)
    with pytest.raises(ValueError, match="except the last one"):
        layers.MultiHeadAttention(2, 2)(x, RNG.standard_normal((2, 4, 7)), key=RNG.standard_normal((2, 5, 7)))
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention"):
        layers.MultiHeadAttention(2, 2, dropout=0.1, flash_attention=True)


# ------------------------------------------------------------------- Attention / AdditiveAttention
def _np_attention(q, v, k, scores, q_mask=None, v_mask=None, causal=False):
    mask = np.ones(scores.shape, bool)
    if v_mask is not None:
        mask &= v_mask[:, None, :]
    if causal:
        mask &= np.tril(np.ones(scores.shape[-2:], bool))[None]
    w = _np_softmax(np.where(mask, scores, scores - 1e9))
    out = w @ v
    if q_mask is not None:
        out = np.where(q_mask[..., None], out, 0.0)
    return out, w


@pytest.mark.parametrize("kind", ["dot", "dot_scaled", "concat", "additive"])
def test_attention_layers_match_numpy(kind):
    q = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    v = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    k = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    if kind == "additive":
        layer = layers.AdditiveAttention()
    else:
        layer = layers.Attention(use_scale=kind != "dot", score_mode="concat" if kind == "concat" else "dot")
    layer([q, v, k])
    _randomize(layer, seed=5)
    w = [t.numpy() for t in layer.weights]
    scores = _recompute(kind, w, q, k)
    qm = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
    vm = np.array([[1, 0, 1, 1, 1], [1, 1, 1, 1, 0]], bool)
    out, weights = layer([q, v, k], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    ref, ref_w = _np_attention(q, v, k, scores, qm, vm, causal=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-4, atol=1e-6)
    # [query, value]: the key is the value.
    ref2 = _np_attention(q, v, v, _recompute(kind, w, q, v))[0]
    np.testing.assert_allclose(layer([q, v]).numpy(), ref2, rtol=1e-4, atol=1e-5)


def _recompute(kind, w, q, k):
    if kind == "dot":
        return q @ k.transpose(0, 2, 1)
    if kind == "dot_scaled":
        return w[0] * (q @ k.transpose(0, 2, 1))
    if kind == "concat":
        return w[1] * np.tanh(w[0] * (q[:, :, None] + k[:, None])).sum(-1)
    return (w[0] * np.tanh(q[:, :, None] + k[:, None])).sum(-1)


def test_attention_masks_propagate_and_config():
    qi, vi = models.Input((4,), dtype="int32"), models.Input((5,), dtype="int32")
    qe = layers.Embedding(10, 3, mask_zero=True)(qi)
    ve = layers.Embedding(10, 3, mask_zero=True)(vi)
    out = layers.Attention()([qe, ve])
    assert out._keras_mask is not None  # the query's mask rides on
    model = models.Model([qi, vi], layers.GlobalAveragePooling1D()(out))
    x = [np.array([[1, 2, 0, 0]], np.int32), np.array([[3, 4, 5, 0, 0]], np.int32)]
    y = model(x).numpy()
    assert np.isfinite(y).all()
    layer = layers.AdditiveAttention(use_scale=False, dropout=0.2, name="add")
    config = layer.get_config()
    assert config == {
        "name": "add",
        "trainable": True,
        "dtype": "float32",
        "use_scale": False,
        "dropout": 0.2,
        "seed": None,
    }
    assert isinstance(layers.deserialize(layers.serialize(layer)), layers.AdditiveAttention)
    assert layers.Attention(score_mode="concat").get_config()["score_mode"] == "concat"
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="general")
    with pytest.raises(ValueError, match="must be called on a list"):
        layers.Attention()(gt.zeros([1, 2, 3]))
    with pytest.raises(ValueError, match="length 2 or 3"):
        layers.Attention()([gt.zeros([1, 2, 3])] * 4)


def test_attention_dropout_and_gradients():
    layer = layers.Attention(dropout=0.5, seed=3)
    q = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    v = RNG.standard_normal((2, 6, 3)).astype(np.float32)
    a = layer([q, v], training=True).numpy()
    np.testing.assert_allclose(layer([q, v], training=False).numpy(), layer([q, v]).numpy())
    assert not np.allclose(a, layer([q, v]).numpy())
    _, w = layer([q, v], training=True, return_attention_scores=True)
    assert set(np.unique(np.round(w.numpy()[w.numpy() == 0], 6))) <= {0.0} and (w.numpy() == 0).any()
    add = layers.AdditiveAttention(dtype="float64")
    qd, vd = gt.constant(q.astype(np.float64)), gt.constant(v.astype(np.float64))
    add([qd, vd])
    with gt.GradientTape() as tape:
        tape.watch(qd)
        y = gt.reduce_sum(gt.square(add([qd, vd])))
    g = tape.gradient(y, qd).numpy()
    eps, num = 1e-6, np.zeros(q.shape)
    for idx in np.ndindex(q.shape):
        hi, lo = q.astype(np.float64), q.astype(np.float64)
        hi[idx] += eps
        lo[idx] -= eps
        num[idx] = (np.sum(add([hi, vd]).numpy() ** 2) - np.sum(add([lo, vd]).numpy() ** 2)) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_softmax_layer_masks_and_axes():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    m = RNG.random((2, 3, 4)) > 0.3
    m[0, 1] = False
    got = layers.Softmax()(x, mask=m).numpy()
    ref = np.where(m, _np_softmax(np.where(m, x, -1e9)), 0.0)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    assert np.all(got[0, 1] == 0)
    two = layers.Softmax(axis=(1, 2))(x).numpy()
    e = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(two, e / e.sum(axis=(1, 2), keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((2, 5), bool))


def test_transformer_block_fits_traced_and_eager():
    def block():
        gt.random.set_seed(0)
        ids = models.Input((6,), dtype="int32")
        x = layers.Embedding(16, 8, mask_zero=True)(ids)
        a = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1, seed=2)(x, x)
        x = layers.LayerNormalization()(layers.Add()([x, a]))
        x = layers.GlobalAveragePooling1D()(layers.Dense(8, activation="relu")(x))
        model = models.Model(ids, layers.Dense(2)(x))
        return model

    rng = np.random.default_rng(0)
    x = rng.integers(1, 16, size=(64, 6)).astype(np.int32)
    x[::3, 4:] = 0  # padding
    y = (x[:, 0] >= 8).astype(np.int32)
    losses = {}
    for eager in (False, True):
        model = block()
        loss = losses_.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=optimizers.Adam(0.01), loss=loss, run_eagerly=eager)
        h = model.fit(x, y, epochs=10, batch_size=16, verbose=0, shuffle=False)
        losses[eager] = h.history["loss"]
        assert h.history["loss"][-1] < 0.5 * h.history["loss"][0], h.history["loss"]
    np.testing.assert_allclose(losses[False], losses[True], rtol=1e-4)


@pytest.mark.parametrize("name", ["gputensor.keras.layers.attention", "gputensor.keras.layers.einsum_dense"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(name), extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0 and result.attempted > 0
