"""gt.keras.metrics: accumulation with sample weights against NumPy, reset, gt.function, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import InvalidArgumentError
from gputensor.keras import metrics as M

RNG = np.random.default_rng(5)


def batches(n=3, size=7, classes=4):
    out = []
    for _ in range(n):
        labels = RNG.integers(0, classes, size)
        scores = RNG.random((size, classes)).astype(np.float32)
        out.append((labels, scores, RNG.random(size).astype(np.float32)))
    return out


def test_mean_accumulates_weighted_values_over_batches():
    m = M.Mean()
    values = [RNG.normal(size=5) for _ in range(3)]
    weights = [RNG.random(5) for _ in range(3)]
    for v, w in zip(values, weights):
        m.update_state(v, sample_weight=w)
    v, w = np.concatenate(values), np.concatenate(weights)
    np.testing.assert_allclose(m.result().numpy(), (v * w).sum() / w.sum(), rtol=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert [x.numpy().item() for x in m.variables] == [0.0, 0.0]


def test_sum_and_unweighted_mean():
    s, m = M.Sum(), M.Mean()
    for chunk in ([1.0, 2.0], [3.0], [4.0, 5.0, 6.0]):
        s.update_state(chunk)
        m.update_state(chunk)
    assert float(s.result()) == 21.0 and float(m.result()) == 3.5


@pytest.mark.parametrize(
    "metric, reference",
    [
        (M.SparseCategoricalAccuracy, lambda y, p: (p.argmax(-1) == y).astype(float)),
        (M.CategoricalAccuracy, lambda y, p: (p.argmax(-1) == y).astype(float)),
        (lambda: M.SparseTopKCategoricalAccuracy(k=2),
         lambda y, p: ((p > p[np.arange(len(y)), y][:, None]).sum(-1) < 2).astype(float)),
        (lambda: M.TopKCategoricalAccuracy(k=3),
         lambda y, p: ((p > p[np.arange(len(y)), y][:, None]).sum(-1) < 3).astype(float)),
    ],
)  # fmt: skip
def test_class_accuracies_accumulate_with_sample_weights(metric, reference):
    m = metric()
    onehot = isinstance(m, (M.CategoricalAccuracy, M.TopKCategoricalAccuracy))
    all_hits, all_w = [], []
    for labels, scores, w in batches():
        m.update_state(np.eye(4)[labels] if onehot else labels, scores, sample_weight=w)
        all_hits.append(reference(labels, scores))
        all_w.append(w)
    hits, w = np.concatenate(all_hits), np.concatenate(all_w)
    np.testing.assert_allclose(m.result().numpy(), (hits * w).sum() / w.sum(), rtol=1e-5)


def test_binary_accuracy_and_accuracy():
    y = RNG.integers(0, 2, (10, 3)).astype(np.float32)
    p = RNG.random((10, 3)).astype(np.float32)
    m = M.BinaryAccuracy(threshold=0.3)
    m.update_state(y, p)
    np.testing.assert_allclose(m.result().numpy(), ((p > 0.3) == y).mean(), rtol=1e-6)
    a = M.Accuracy()
    a.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert float(a.result()) == 0.75


def test_regression_metrics_match_numpy():
    y, p, w = RNG.normal(size=(9, 2)), RNG.normal(size=(9, 2)), RNG.random(9)
    for metric, ref in (
        (M.MeanSquaredError(), ((y - p) ** 2).mean(-1)),
        (M.MeanAbsoluteError(), np.abs(y - p).mean(-1)),
    ):
        metric.update_state(y[:4], p[:4], sample_weight=w[:4])
        metric.update_state(y[4:], p[4:], sample_weight=w[4:])
        np.testing.assert_allclose(metric.result().numpy(), (ref * w).sum() / w.sum(), rtol=1e-5)
    rmse = M.RootMeanSquaredError()
    rmse.update_state(y[:4], p[:4])
    rmse.update_state(y[4:], p[4:])
    np.testing.assert_allclose(rmse.result().numpy(), np.sqrt(((y - p) ** 2).mean()), rtol=1e-5)


def np_counts(y, p, thresholds, w):
    above = p.reshape(1, -1) > np.asarray(thresholds).reshape(-1, 1)
    pos = (y.reshape(-1) != 0) * w.reshape(-1)
    neg = (y.reshape(-1) == 0) * w.reshape(-1)
    return (above * pos).sum(1), (above * neg).sum(1), (~above * neg).sum(1), (~above * pos).sum(1)


def test_precision_recall_over_batches_and_thresholds():
    y = RNG.integers(0, 2, 30).astype(np.float32)
    p = RNG.random(30).astype(np.float32)
    w = RNG.random(30).astype(np.float32)
    prec, rec = M.Precision(thresholds=[0.2, 0.5, 0.8]), M.Recall()
    for s in (slice(0, 10), slice(10, 30)):
        prec.update_state(y[s], p[s], sample_weight=w[s])
        rec.update_state(y[s], p[s], sample_weight=w[s])
    tp, fp, _, fn = np_counts(y, p, [0.2, 0.5, 0.8], w)
    np.testing.assert_allclose(prec.result().numpy(), tp / (tp + fp), rtol=1e-5)
    tp, _, _, fn = np_counts(y, p, [0.5], w)
    np.testing.assert_allclose(rec.result().numpy(), (tp / (tp + fn))[0], rtol=1e-5)
    assert rec.result().shape == ()


def test_auc_roc_approaches_the_rank_statistic():
    y = RNG.integers(0, 2, 400).astype(np.float32)
    p = np.clip(0.3 * y + 0.7 * RNG.random(400), 0, 1).astype(np.float32)
    m = M.AUC(num_thresholds=2000)
    for s in range(0, 400, 100):
        m.update_state(y[s : s + 100], p[s : s + 100])
    pos, neg = p[y == 1], p[y == 0]
    exact = (pos[:, None] > neg[None, :]).mean()  # Mann-Whitney U / (n_pos * n_neg)
    np.testing.assert_allclose(m.result().numpy(), exact, atol=2e-3)


def test_auc_equals_trapezoid_rule_on_its_thresholds():
    y = RNG.integers(0, 2, 50).astype(np.float32)
    p = RNG.random(50).astype(np.float32)
    m = M.AUC(num_thresholds=11)
    m.update_state(y, p)
    th = np.array([-1e-7] + [(i + 1) / 10 for i in range(9)] + [1 + 1e-7], np.float32)
    tp, fp, tn, fn = np_counts(y, p, th, np.ones(50))
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    np.testing.assert_allclose(
        m.result().numpy(), ((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum(), rtol=1e-5
    )


def test_metrics_update_inside_gt_function_like_eager():
    data = batches(4)
    eager, graph = M.SparseCategoricalAccuracy(), M.SparseCategoricalAccuracy()
    auc_e, auc_g = M.AUC(num_thresholds=20), M.AUC(num_thresholds=20)
    top_e, top_g = M.SparseTopKCategoricalAccuracy(k=2), M.SparseTopKCategoricalAccuracy(k=2)

    @gt.function
    def update(labels, onehot, scores, weights):
        graph.update_state(labels, scores)
        auc_g.update_state(onehot, scores)
        top_g.update_state(labels, scores, sample_weight=weights)
        return graph.result()

    for labels, scores, w in data:
        eager.update_state(labels, scores)
        auc_e.update_state(np.eye(4)[labels], scores)
        top_e.update_state(labels, scores, sample_weight=w)
        onehot = np.eye(4, dtype=np.float32)[labels]
        update(gt.constant(labels), gt.constant(onehot), gt.constant(scores), gt.constant(w))
    np.testing.assert_allclose(graph.result().numpy(), eager.result().numpy(), rtol=1e-6)
    np.testing.assert_allclose(auc_g.result().numpy(), auc_e.result().numpy(), rtol=1e-6)
    np.testing.assert_allclose(top_g.result().numpy(), top_e.result().numpy(), rtol=1e-6)
    assert update.experimental_get_tracing_count() == 1


def test_get_resolves_names():
    assert isinstance(M.get("accuracy"), M.Accuracy)
    assert isinstance(M.get("acc"), M.Accuracy)
    assert isinstance(M.get("sparse_categorical_accuracy"), M.SparseCategoricalAccuracy)
    assert isinstance(M.get("AUC"), M.AUC) and isinstance(M.get("auc"), M.AUC)
    assert isinstance(M.get("mse"), M.MeanSquaredError)
    assert M.get("top_k_categorical_accuracy").k == 5
    wrapped = M.MeanMetricWrapper(M.binary_accuracy, name="bin", threshold=0.9)
    wrapped.update_state([1.0, 0.0], [0.95, 0.5])
    assert float(wrapped.result()) == 1.0 and wrapped.name == "bin"
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.get("acuracy")


def test_bad_inputs_name_the_metric_and_shapes():
    with pytest.raises(InvalidArgumentError, match=r"sparse_categorical_accuracy.*\(4, 3\).*\(4, 5\)"):
        M.SparseCategoricalAccuracy().update_state(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(InvalidArgumentError, match=r"categorical_accuracy.*\(4,\).*\(4, 5\)"):
        M.CategoricalAccuracy().update_state(np.zeros(4), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="thresholds must be in"):
        M.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="curve must be"):
        M.AUC(curve="DET")
