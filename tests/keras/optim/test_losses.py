"""gt.keras.losses against NumPy formulas, reductions, resolution and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import InvalidArgumentError
from gputensor.keras import losses as L

RNG = np.random.default_rng(11)
EPS = 1e-7
YT = RNG.normal(size=(6, 5))
YP = RNG.normal(size=(6, 5))
PT = RNG.random((6, 5)) * 0.9 + 0.05
PP = RNG.random((6, 5)) * 0.9 + 0.05
BIN = RNG.integers(0, 2, (6, 5)).astype(np.float64)
ONEHOT = np.eye(5)[RNG.integers(0, 5, 6)]
SW = RNG.random(6)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_normalize(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)


# name: (function, y_true, y_pred, numpy per-sample reference)
CASES = {
    "mse": (L.mean_squared_error, YT, YP, lambda t, p: ((t - p) ** 2).mean(-1)),
    "mae": (L.mean_absolute_error, YT, YP, lambda t, p: np.abs(t - p).mean(-1)),
    "mape": (L.mean_absolute_percentage_error, YT, YP,
             lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    "msle": (L.mean_squared_logarithmic_error, PT, PP,
             lambda t, p: ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)),
    "bce": (L.binary_crossentropy, BIN, PP, lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)),
    "cce": (L.categorical_crossentropy, ONEHOT, PP,
            lambda t, p: -(t * np.log(p / p.sum(-1, keepdims=True))).sum(-1)),
    "hinge_binary": (L.hinge, BIN, YP, lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    "hinge_signed": (L.hinge, np.sign(YT), YP, lambda t, p: np.maximum(1 - t * p, 0).mean(-1)),
    "huber": (L.huber, YT, YP, lambda t, p: np.where(np.abs(p - t) <= 1, 0.5 * (p - t) ** 2,
                                                     np.abs(p - t) - 0.5).mean(-1)),
    "kld": (L.kl_divergence, PT, PP, lambda t, p: (t * np.log(t / p)).sum(-1)),
    "log_cosh": (L.log_cosh, YT, YP, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "cosine": (L.cosine_similarity, YT, YP, lambda t, p: -(np_normalize(t) * np_normalize(p)).sum(-1)),
    "poisson": (L.poisson, PT, PP, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(CASES))
def test_loss_function_matches_numpy(key):
    fn, yt, yp, ref = CASES[key]
    np.testing.assert_allclose(fn(yt, yp).numpy(), ref(yt, yp), rtol=1e-9, atol=1e-12)


def test_crossentropies_from_logits_and_label_smoothing_match_numpy():
    logits = YP * 3
    t = ONEHOT * 0.8 + 0.2 / 5
    np.testing.assert_allclose(
        L.categorical_crossentropy(ONEHOT, logits, from_logits=True, label_smoothing=0.2).numpy(),
        -(t * np.log(softmax(logits))).sum(-1),
        rtol=1e-9,
    )
    b = BIN * 0.9 + 0.05
    sig = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(
        L.binary_crossentropy(BIN, logits, from_logits=True, label_smoothing=0.1).numpy(),
        -(b * np.log(sig) + (1 - b) * np.log(1 - sig)).mean(-1),
        rtol=1e-9,
    )
    labels = RNG.integers(0, 5, 6)
    np.testing.assert_allclose(
        L.sparse_categorical_crossentropy(labels, logits, from_logits=True).numpy(),
        -np.log(softmax(logits)[np.arange(6), labels]),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        L.sparse_categorical_crossentropy(labels[:, None], PP).numpy(),
        -np.log(PP[np.arange(6), labels] / PP.sum(-1)),
        rtol=1e-9,
    )


def test_probabilities_are_clipped_so_zero_and_one_stay_finite():
    out = L.binary_crossentropy([[0.0, 1.0]], [[1.0, 0.0]]).numpy()
    # float32: the clipped 1 - eps is 1 - 2**-23 (computed in float64 here to be independent).
    hi, lo = float(np.float32(1 - EPS)), float(np.float32(EPS))
    np.testing.assert_allclose(out, [(-np.log(1 - hi) - np.log(lo)) / 2], rtol=1e-5)
    assert np.isfinite(L.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]]).numpy()).all()


@pytest.mark.parametrize(
    "reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]
)
def test_reductions_with_sample_weight(reduction):
    per = ((YT - YP) ** 2).mean(-1)
    got = L.MeanSquaredError(reduction=reduction)(YT, YP, sample_weight=SW).numpy()
    weighted = per * SW
    expected = {
        "sum_over_batch_size": weighted.sum() / 6,
        "mean": weighted.sum() / 6,
        "sum": weighted.sum(),
        "mean_with_sample_weight": weighted.sum() / SW.sum(),
        None: weighted,
        "none": weighted,
    }[reduction]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_per_element_sample_weight_and_rank_matching():
    sw = RNG.random((6, 5))
    # Per-element weights apply to the per-sample losses after the last axis is reduced only
    # when their rank matches: here a (6, 1) weight is squeezed to (6,).
    np.testing.assert_allclose(
        L.MeanAbsoluteError()(YT, YP, sample_weight=sw[:, :1]).numpy(),
        (np.abs(YT - YP).mean(-1) * sw[:, 0]).mean(),
        rtol=1e-9,
    )
    # (6,) labels against (6, 1) predictions are expanded, as Keras.
    np.testing.assert_allclose(
        L.MeanSquaredError()(YT[:, 0], YP[:, :1]).numpy(), ((YT[:, 0] - YP[:, 0]) ** 2).mean(), rtol=1e-9
    )


def test_loss_classes_keep_config_and_default_names():
    loss = L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert loss.name == "binary_crossentropy"
    assert loss.get_config() == {
        "name": "binary_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": True, "label_smoothing": 0.1, "axis": -1,
    }  # fmt: skip
    clone = L.deserialize(L.serialize(loss))
    np.testing.assert_allclose(clone(BIN, YP).numpy(), loss(BIN, YP).numpy())
    assert L.Huber(delta=2.0).delta == 2.0 and L.Huber().name == "huber_loss"


def test_get_resolves_names_aliases_and_classes():
    assert L.get("mse") is L.mean_squared_error
    # Keras 3 exports the short names as module attributes too (tf.keras.losses.mse).
    assert (L.mse, L.MAE, L.mape, L.MSLE, L.kld) == (
        L.mean_squared_error,
        L.mean_absolute_error,
        L.mean_absolute_percentage_error,
        L.mean_squared_logarithmic_error,
        L.kl_divergence,
    )
    assert L.get("MAE") is L.mean_absolute_error
    assert L.get("sparse_categorical_crossentropy") is L.sparse_categorical_crossentropy
    assert L.get("kld") is L.kl_divergence
    assert isinstance(L.get("CategoricalCrossentropy"), L.CategoricalCrossentropy)
    loss = L.Poisson()
    assert L.get(loss) is loss
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        L.get("msee")


def test_shape_mismatch_raises_invalid_argument_naming_loss_and_shapes():
    with pytest.raises(InvalidArgumentError, match=r"MeanSquaredError: .*\(4, 1\).*\(4, 3\)"):
        L.MeanSquaredError()(np.zeros((4, 1)), np.zeros((4, 3)))
    with pytest.raises(InvalidArgumentError, match=r"categorical_crossentropy: y_true of shape \(4,\)"):
        L.categorical_crossentropy(np.zeros(4), np.zeros((4, 3)))
    with pytest.raises(
        InvalidArgumentError, match=r"sparse_categorical_crossentropy: y_true of shape \(4, 3\)"
    ):
        L.SparseCategoricalCrossentropy()(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="invalid reduction 'avg'"):
        L.MeanSquaredError(reduction="avg")


def test_losses_differentiate_and_trace():
    w = gt.Variable(np.ones((5, 3), np.float32) * 0.1)
    x = gt.constant(YT.astype(np.float32))
    labels = gt.constant(RNG.integers(0, 3, 6))
    loss_fn = L.SparseCategoricalCrossentropy(from_logits=True)

    def step():
        with gt.GradientTape() as tape:
            loss = loss_fn(labels, gt.matmul(x, w))
        return loss, tape.gradient(loss, w)

    eager_loss, eager_grad = step()
    graph_loss, graph_grad = gt.function(step)()
    np.testing.assert_allclose(graph_loss.numpy(), eager_loss.numpy(), rtol=1e-6)
    np.testing.assert_allclose(graph_grad.numpy(), eager_grad.numpy(), rtol=1e-5, atol=1e-7)
    logits = YT @ np.full((5, 3), 0.1)
    p = softmax(logits)
    onehot = np.eye(3)[labels.numpy()]
    np.testing.assert_allclose(eager_grad.numpy(), YT.T @ (p - onehot) / 6, rtol=1e-4, atol=1e-6)


LOSS_CLASSES = {
    "mse": (L.MeanSquaredError(), YT, YP),
    "mae": (L.MeanAbsoluteError(), YT, YP),
    "mape": (L.MeanAbsolutePercentageError(), YT, YP),
    "msle": (L.MeanSquaredLogarithmicError(), PT, PP),
    "bce": (L.BinaryCrossentropy(label_smoothing=0.1), BIN, PP),
    "cce": (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONEHOT, YP),
    "scce": (L.SparseCategoricalCrossentropy(ignore_class=2), ONEHOT.argmax(-1), PP),
    "hinge": (L.Hinge(), BIN, YP),
    "huber": (L.Huber(0.5), YT, YP),
    "kld": (L.KLDivergence(), PT, PP),
    "logcosh": (L.LogCosh(), YT, YP),
    "cosine": (L.CosineSimilarity(), YT, YP),
    "poisson": (L.Poisson(), PT, PP),
}


@pytest.mark.parametrize("key", sorted(LOSS_CLASSES))
def test_every_loss_traces_with_an_unknown_batch_dim(key):
    loss, yt, yp = LOSS_CLASSES[key]
    yt = yt.astype(np.int64 if key == "scce" else np.float32)
    yp, sw = yp.astype(np.float32), SW.astype(np.float32)
    spec_t = gt.TensorSpec([None] + list(yt.shape[1:]), gt.as_dtype(yt.dtype))
    fn = gt.function(
        lambda t, p, w: loss(t, p, sample_weight=w),
        input_signature=[spec_t, gt.TensorSpec([None, 5], gt.float32), gt.TensorSpec([None], gt.float32)],
    )
    np.testing.assert_allclose(fn(yt, yp, sw).numpy(), loss(yt, yp, sample_weight=sw).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        fn(yt[:3], yp[:3], sw[:3]).numpy(), loss(yt[:3], yp[:3], sample_weight=sw[:3]).numpy(), rtol=1e-5
    )
