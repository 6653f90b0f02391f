"""Writes tests/keras/optim/fixtures/keras_optim.npz with real Keras 3 results.

Run with the peers' TensorFlow: /work/peers/bin/python scripts/make_keras_optim_fixtures.py
The tests (tests/keras/optim/) read the .npz and never import TensorFlow. Inputs are
generated here from a fixed seed and stored beside the outputs.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "keras", "optim", "fixtures", "keras_optim.npz")
rng = np.random.default_rng(7)
out: dict[str, np.ndarray] = {}

# ---------------------------------------------------------------- optimizers
w0 = rng.normal(size=(3, 4)).astype(np.float32)
b0 = rng.normal(size=(4,)).astype(np.float32)
grads_w = rng.normal(size=(6, 3, 4)).astype(np.float32) * 2.0
grads_b = rng.normal(size=(6, 4)).astype(np.float32)
out["opt/w0"], out["opt/b0"], out["opt/grads_w"], out["opt/grads_b"] = w0, b0, grads_w, grads_b

S = keras.optimizers.schedules
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.1, momentum=0.8, nesterov=True),
    "adam": lambda: keras.optimizers.Adam(0.05),
    "adam_amsgrad": lambda: keras.optimizers.Adam(0.05, beta_1=0.8, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(0.05, weight_decay=0.1),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "sgd_clipnorm": lambda: keras.optimizers.SGD(0.1, clipnorm=1.0),
    "sgd_clipvalue": lambda: keras.optimizers.SGD(0.1, clipvalue=0.5),
    "adam_global_clipnorm": lambda: keras.optimizers.Adam(0.05, global_clipnorm=1.5),
    "sgd_weight_decay": lambda: keras.optimizers.SGD(0.1, momentum=0.5, weight_decay=0.05),
    "adam_exponential": lambda: keras.optimizers.Adam(S.ExponentialDecay(0.1, 2, 0.5)),
    "sgd_piecewise": lambda: keras.optimizers.SGD(S.PiecewiseConstantDecay([1, 3], [0.3, 0.1, 0.01])),
    "rmsprop_cosine_warmup": lambda: keras.optimizers.RMSprop(
        S.CosineDecay(0.0, 4, warmup_target=0.05, warmup_steps=2)
    ),
}
for key, make in OPTIMIZERS.items():
    opt = make()
    w = keras.Variable(w0.copy(), name="kernel")
    b = keras.Variable(b0.copy(), name="bias")
    for i in range(len(grads_w)):
        opt.apply_gradients([(grads_w[i], w), (grads_b[i], b)])
    out[f"opt/{key}/w"] = np.asarray(w.numpy())
    out[f"opt/{key}/b"] = np.asarray(b.numpy())
    out[f"opt/{key}/num_variables"] = np.asarray(len(opt.variables))

# ---------------------------------------------------------------- schedules
steps = np.arange(0, 25, dtype=np.int64)
out["sched/steps"] = steps
SCHEDULES = {
    "exponential": S.ExponentialDecay(0.1, 5, 0.7),
    "exponential_staircase": S.ExponentialDecay(0.1, 5, 0.7, staircase=True),
    "piecewise": S.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.1]),
    "polynomial": S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0),
    "polynomial_cycle": S.PolynomialDecay(0.1, 7, end_learning_rate=0.01, power=0.5, cycle=True),
    "inverse_time": S.InverseTimeDecay(0.1, 4, 0.5),
    "inverse_time_staircase": S.InverseTimeDecay(0.1, 4, 0.5, staircase=True),
    "cosine": S.CosineDecay(0.1, 20, alpha=0.1),
    "cosine_warmup": S.CosineDecay(0.0, 15, alpha=0.05, warmup_target=0.2, warmup_steps=5),
    "cosine_restarts": S.CosineDecayRestarts(0.1, 5, t_mul=2.0, m_mul=0.8, alpha=0.1),
    "cosine_restarts_tmul1": S.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.9),
}
for key, s in SCHEDULES.items():
    out[f"sched/{key}"] = np.array([float(s(int(t))) for t in steps], np.float32)

# ---------------------------------------------------------------- losses
L = keras.losses
probs = rng.random((5, 4)).astype(np.float32) * 0.9 + 0.05
probs_norm = probs / probs.sum(-1, keepdims=True)
onehot = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 5)]
binary = rng.integers(0, 2, (5, 4)).astype(np.float32)
real_t = rng.normal(size=(5, 4)).astype(np.float32) * 2
real_p = rng.normal(size=(5, 4)).astype(np.float32) * 2
pos_t = rng.random((5, 4)).astype(np.float32) * 3
pos_p = rng.random((5, 4)).astype(np.float32) * 3 + 0.1
logits = rng.normal(size=(5, 4)).astype(np.float32) * 3
sparse = rng.integers(0, 4, (5,)).astype(np.int64)
sw = rng.random(5).astype(np.float32)
for k, v in dict(
    probs=probs,
    probs_norm=probs_norm,
    onehot=onehot,
    binary=binary,
    real_t=real_t,
    real_p=real_p,
    pos_t=pos_t,
    pos_p=pos_p,
    logits=logits,
    sparse=sparse,
    sw=sw,
).items():
    out[f"loss_in/{k}"] = v
LOSSES = {  # name: (loss, y_true key, y_pred key)
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
for key, (cls, kwargs, tk, pk) in LOSSES.items():
    yt, yp = out[f"loss_in/{tk}"], out[f"loss_in/{pk}"]
    out[f"loss/{key}/none"] = np.asarray(cls(reduction=None, **kwargs)(yt, yp))
    out[f"loss/{key}/mean"] = np.asarray(cls(**kwargs)(yt, yp))
    out[f"loss/{key}/weighted"] = np.asarray(cls(**kwargs)(yt, yp, sample_weight=sw))
    out[f"loss/{key}/sum"] = np.asarray(cls(reduction="sum", **kwargs)(yt, yp, sample_weight=sw))
    out[f"loss/{key}/mean_with_sample_weight"] = np.asarray(
        cls(reduction="mean_with_sample_weight", **kwargs)(yt, yp, sample_weight=sw)
    )
ignore_labels = np.array([1, 0, 3, 0, 2], np.int64)
out["loss/scce_ignore/labels"] = ignore_labels
out["loss/scce_ignore/mean"] = np.asarray(
    L.SparseCategoricalCrossentropy(ignore_class=0)(ignore_labels, probs_norm)
)

# ---------------------------------------------------------------- metrics (two batches)
M = keras.metrics
yb = rng.integers(0, 2, (16, 1)).astype(np.float32)
pb = np.clip(yb * 0.3 + rng.random((16, 1)).astype(np.float32) * 0.7, 0, 1)
wb = rng.random(16).astype(np.float32)
yc = rng.integers(0, 5, (16,)).astype(np.int64)
pc = rng.random((16, 5)).astype(np.float32)
ml_t = rng.integers(0, 2, (16, 3)).astype(np.float32)
ml_p = rng.random((16, 3)).astype(np.float32)
for k, v in dict(yb=yb, pb=pb, wb=wb, yc=yc, pc=pc, ml_t=ml_t, ml_p=ml_p).items():
    out[f"metric_in/{k}"] = v
METRICS = {  # name: (metric, y_true, y_pred)
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
out["metric_in/yc_onehot"] = np.eye(5, dtype=np.float32)[yc]
for key, (make, tk, pk) in METRICS.items():
    m = make()
    yt, yp = out[f"metric_in/{tk}"], out[f"metric_in/{pk}"]
    m.update_state(yt[:8], yp[:8])
    m.update_state(yt[8:], yp[8:], sample_weight=wb[8:])
    out[f"metric/{key}"] = np.asarray(m.result())
m = M.Mean()
m.update_state(pc[:8], sample_weight=wb[:8])
m.update_state(pc[8:])
out["metric/mean_2d"] = np.asarray(m.result())
m = M.Sum()
m.update_state(pc[:8], sample_weight=wb[:8])
m.update_state(pc[8:])
out["metric/sum_2d"] = np.asarray(m.result())

np.savez_compressed(OUT, **out)
print(f"wrote {len(out)} arrays to {os.path.normpath(OUT)} with keras {keras.__version__}")
