"""gt.keras optimizers, schedules, losses and metrics against results of real Keras 3.

The fixture is written by scripts/make_keras_optim_fixtures.py with tensorflow-cpu 2.21 /
Keras 3; these tests only read it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import losses as L
from gputensor.keras import metrics as M
from gputensor.keras import optimizers as O

S = O.schedules
FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_optim.npz"))

OPTIMIZERS = {
    "sgd": lambda: O.SGD(0.1),
    "sgd_momentum": lambda: O.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: O.SGD(0.1, momentum=0.8, nesterov=True),
    "adam": lambda: O.Adam(0.05),
    "adam_amsgrad": lambda: O.Adam(0.05, beta_1=0.8, amsgrad=True),
    "adamw": lambda: O.AdamW(0.05, weight_decay=0.1),
    "rmsprop": lambda: O.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: O.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: O.Adagrad(0.1),
    "sgd_clipnorm": lambda: O.SGD(0.1, clipnorm=1.0),
    "sgd_clipvalue": lambda: O.SGD(0.1, clipvalue=0.5),
    "adam_global_clipnorm": lambda: O.Adam(0.05, global_clipnorm=1.5),
    "sgd_weight_decay": lambda: O.SGD(0.1, momentum=0.5, weight_decay=0.05),
    "adam_exponential": lambda: O.Adam(S.ExponentialDecay(0.1, 2, 0.5)),
    "sgd_piecewise": lambda: O.SGD(S.PiecewiseConstantDecay([1, 3], [0.3, 0.1, 0.01])),
    "rmsprop_cosine_warmup": lambda: O.RMSprop(S.CosineDecay(0.0, 4, warmup_target=0.05, warmup_steps=2)),
}


@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_matches_keras_over_six_steps(key):
    opt = OPTIMIZERS[key]()
    w = gt.Variable(FIX["opt/w0"], name="kernel")
    b = gt.Variable(FIX["opt/b0"], name="bias")
    for gw, gb in zip(FIX["opt/grads_w"], FIX["opt/grads_b"]):
        opt.apply_gradients([(gt.constant(gw), w), (gt.constant(gb), b)])
    np.testing.assert_allclose(w.numpy(), FIX[f"opt/{key}/w"], rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(b.numpy(), FIX[f"opt/{key}/b"], rtol=2e-5, atol=2e-6)
    assert len(opt.variables) == int(FIX[f"opt/{key}/num_variables"])
    assert int(opt.iterations.numpy()) == len(FIX["opt/grads_w"])


SCHEDULES = {
    "exponential": lambda: S.ExponentialDecay(0.1, 5, 0.7),
    "exponential_staircase": lambda: S.ExponentialDecay(0.1, 5, 0.7, staircase=True),
    "piecewise": lambda: S.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.1]),
    "polynomial": lambda: S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0),
    "polynomial_cycle": lambda: S.PolynomialDecay(0.1, 7, end_learning_rate=0.01, power=0.5, cycle=True),
    "inverse_time": lambda: S.InverseTimeDecay(0.1, 4, 0.5),
    "inverse_time_staircase": lambda: S.InverseTimeDecay(0.1, 4, 0.5, staircase=True),
    "cosine": lambda: S.CosineDecay(0.1, 20, alpha=0.1),
    "cosine_warmup": lambda: S.CosineDecay(0.0, 15, alpha=0.05, warmup_target=0.2, warmup_steps=5),
    "cosine_restarts": lambda: S.CosineDecayRestarts(0.1, 5, t_mul=2.0, m_mul=0.8, alpha=0.1),
    "cosine_restarts_tmul1": lambda: S.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.9),
}


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_schedule_matches_keras_at_every_step(key):
    schedule = SCHEDULES[key]()
    got = np.array([float(schedule(gt.constant(int(t), gt.int64))) for t in FIX["sched/steps"]])
    np.testing.assert_allclose(got, FIX[f"sched/{key}"], rtol=1e-5, atol=1e-7)
    clone = S.deserialize(S.serialize(schedule))
    np.testing.assert_allclose(float(clone(7)), float(schedule(7)), rtol=1e-6)


LOSSES = {
    "mse": (L.MeanSquaredError, {}, "real_t", "real_p"),
    "mae": (L.MeanAbsoluteError, {}, "real_t", "real_p"),
    "mape": (L.MeanAbsolutePercentageError, {}, "real_t", "real_p"),
    "msle": (L.MeanSquaredLogarithmicError, {}, "pos_t", "pos_p"),
    "bce": (L.BinaryCrossentropy, {}, "binary", "probs"),
    "bce_logits_smooth": (
        L.BinaryCrossentropy,
        {"from_logits": True, "label_smoothing": 0.2},
        "binary",
        "logits",
    ),
    "cce": (L.CategoricalCrossentropy, {}, "onehot", "probs"),
    "cce_logits_smooth": (
        L.CategoricalCrossentropy,
        {"from_logits": True, "label_smoothing": 0.1},
        "onehot",
        "logits",
    ),
    "scce": (L.SparseCategoricalCrossentropy, {}, "sparse", "probs_norm"),
    "scce_logits": (L.SparseCategoricalCrossentropy, {"from_logits": True}, "sparse", "logits"),
    "hinge": (L.Hinge, {}, "binary", "real_p"),
    "hinge_pm1": (L.Hinge, {}, "real_t", "real_p"),
    "huber": (L.Huber, {"delta": 0.7}, "real_t", "real_p"),
    "kld": (L.KLDivergence, {}, "probs_norm", "probs"),
    "logcosh": (L.LogCosh, {}, "real_t", "real_p"),
    "cosine": (L.CosineSimilarity, {}, "real_t", "real_p"),
    "poisson": (L.Poisson, {}, "pos_t", "pos_p"),
}


@pytest.mark.parametrize("key", sorted(LOSSES))
def test_loss_matches_keras_for_every_reduction(key):
    cls, kwargs, tk, pk = LOSSES[key]
    yt, yp, sw = FIX[f"loss_in/{tk}"], FIX[f"loss_in/{pk}"], FIX["loss_in/sw"]
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(cls(reduction=None, **kwargs)(yt, yp).numpy(), FIX[f"loss/{key}/none"], **tol)
    np.testing.assert_allclose(cls(**kwargs)(yt, yp).numpy(), FIX[f"loss/{key}/mean"], **tol)
    np.testing.assert_allclose(
        cls(**kwargs)(yt, yp, sample_weight=sw).numpy(), FIX[f"loss/{key}/weighted"], **tol
    )
    np.testing.assert_allclose(
        cls(reduction="sum", **kwargs)(yt, yp, sample_weight=sw).numpy(), FIX[f"loss/{key}/sum"], **tol
    )
    np.testing.assert_allclose(
        cls(reduction="mean_with_sample_weight", **kwargs)(yt, yp, sample_weight=sw).numpy(),
        FIX[f"loss/{key}/mean_with_sample_weight"],
        **tol,
    )


def test_sparse_categorical_crossentropy_ignore_class_matches_keras():
    loss = L.SparseCategoricalCrossentropy(ignore_class=0)
    got = loss(FIX["loss/scce_ignore/labels"], FIX["loss_in/probs_norm"]).numpy()
    np.testing.assert_allclose(got, FIX["loss/scce_ignore/mean"], rtol=1e-5)


METRICS = {
    "auc": (lambda: M.AUC(), "yb", "pb"),
    "auc_pr": (lambda: M.AUC(curve="PR", num_thresholds=50), "yb", "pb"),
    "auc_minoring": (lambda: M.AUC(summation_method="minoring", num_thresholds=20), "yb", "pb"),
    "auc_multi": (lambda: M.AUC(multi_label=True, num_labels=3, num_thresholds=30), "ml_t", "ml_p"),
    "precision": (lambda: M.Precision(), "yb", "pb"),
    "precision_thresholds": (lambda: M.Precision(thresholds=[0.3, 0.6]), "yb", "pb"),
    "recall": (lambda: M.Recall(thresholds=0.4), "yb", "pb"),
    "precision_topk": (lambda: M.Precision(top_k=2), "ml_t", "ml_p"),
    "recall_class": (lambda: M.Recall(class_id=1), "ml_t", "ml_p"),
    "binary_accuracy": (lambda: M.BinaryAccuracy(threshold=0.6), "yb", "pb"),
    "sparse_categorical_accuracy": (lambda: M.SparseCategoricalAccuracy(), "yc", "pc"),
    "sparse_top_k": (lambda: M.SparseTopKCategoricalAccuracy(k=2), "yc", "pc"),
    "categorical_accuracy": (lambda: M.CategoricalAccuracy(), "yc_onehot", "pc"),
    "top_k": (lambda: M.TopKCategoricalAccuracy(k=3), "yc_onehot", "pc"),
    "mse": (lambda: M.MeanSquaredError(), "ml_t", "ml_p"),
    "mae": (lambda: M.MeanAbsoluteError(), "ml_t", "ml_p"),
    "rmse": (lambda: M.RootMeanSquaredError(), "ml_t", "ml_p"),
}


@pytest.mark.parametrize("key", sorted(METRICS))
def test_metric_accumulates_two_batches_as_keras(key):
    make, tk, pk = METRICS[key]
    yt, yp, wb = FIX[f"metric_in/{tk}"], FIX[f"metric_in/{pk}"], FIX["metric_in/wb"]
    m = make()
    m.update_state(yt[:8], yp[:8])
    m.update_state(yt[8:], yp[8:], sample_weight=wb[8:])
    np.testing.assert_allclose(m.result().numpy(), FIX[f"metric/{key}"], rtol=1e-5, atol=1e-6)


def test_mean_and_sum_reduce_2d_values_per_sample_as_keras():
    pc, wb = FIX["metric_in/pc"], FIX["metric_in/wb"]
    for metric, key in ((M.Mean(), "mean_2d"), (M.Sum(), "sum_2d")):
        metric.update_state(pc[:8], sample_weight=wb[:8])
        metric.update_state(pc[8:])
        np.testing.assert_allclose(metric.result().numpy(), FIX[f"metric/{key}"], rtol=1e-5)
