"""Speed of gputensor against raw NumPy, PyTorch and TensorFlow, measured in one run.

    python scripts/bench.py            # every workload; peers that are not installed are skipped
    python scripts/bench.py --quick    # fewer repetitions

Prints one table: per workload the median time of each library and gputensor's ratio
to each peer (ratio < 1: gputensor is faster). CPU numbers are eager ops on CPU:0;
GPU rows (elementwise/reduce_sum at 1e8 against the device-to-device copy bandwidth,
softmax against CuPy/PyTorch) run when a GPU is visible. Benchmarks only measure:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _batch_size(fn: Callable[[], Any], min_time: float, sync: Callable[[], None] | None = None) -> int:
    """Calls of ``fn`` (after a warm-up one) that last over min_time/5: doubled until they do."""
    fn()
    if sync:
        sync()
    n, t0 = 1, time.perf_counter()
    while True:
        for _ in range(n):
            fn()
        if sync:
            sync()
        if time.perf_counter() - t0 > min_time / 5:
            return n
        n *= 2
        t0 = time.perf_counter()


def _timeit(fn: Callable[[], Any], min_time: float, sync: Callable[[], None] | None = None) -> float:
    """Median seconds per call over repeated batches sized to last ~min_time/5 each."""
    n = _batch_size(fn, min_time, sync)
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if sync:
            sync()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def _peers() -> dict[str, Any]:
    peers: dict[str, Any] = {}
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        peers["torch"] = torch
    except ImportError:
        pass
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        tf.config.set_visible_devices([], "GPU")
        peers["tf"] = tf
    except Exception:
        pass
    return peers


def cpu_workloads(gt: Any, peers: dict[str, Any]) -> list[tuple[str, dict[str, Callable[[], Any]]]]:
    rng = np.random.default_rng(0)
    torch, tf = peers.get("torch"), peers.get("tf")
    rows = []

    def add(name: str, make: Callable[[Any], dict[str, Callable]]) -> None:
        rows.append((name, make(rng)))

    for n in (4, 1000, 1_000_000):
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        ga, gb = gt.constant(a), gt.constant(b)
        fns = {"gputensor": lambda ga=ga, gb=gb: ga + gb, "numpy": lambda a=a, b=b: np.add(a, b)}
        if torch:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda ta=ta, tb=tb: ta + tb
        if tf:
            fa, fb = tf.constant(a), tf.constant(b)
            fns["tf"] = lambda fa=fa, fb=fb: fa + fb
        rows.append((f"add {n:g} f32", fns))

    for n in (64, 1024):
        a = rng.standard_normal((n, n)).astype(np.float32)
        ga = gt.constant(a)
        fns = {"gputensor": lambda ga=ga: gt.matmul(ga, ga), "numpy": lambda a=a: a @ a}
        if torch:
            ta = torch.from_numpy(a)
            fns["torch"] = lambda ta=ta: ta @ ta
        if tf:
            fa = tf.constant(a)
            fns["tf"] = lambda fa=fa: tf.matmul(fa, fa)
        rows.append((f"matmul {n}", fns))

    x = rng.standard_normal(1_000_000).astype(np.float32)
    gx = gt.constant(x)
    fns = {"gputensor": lambda: gt.reduce_sum(gx), "numpy": lambda: np.sum(x)}
    if torch:
        tx = torch.from_numpy(x)
        fns["torch"] = lambda: tx.sum()
    if tf:
        fx = tf.constant(x)
        fns["tf"] = lambda: tf.reduce_sum(fx)
    rows.append(("reduce_sum 1e6", fns))

    s = rng.standard_normal((128, 1000)).astype(np.float32)
    gs = gt.constant(s)

    def np_softmax() -> np.ndarray:
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    fns = {"gputensor": lambda: gt.nn.softmax(gs), "numpy": np_softmax}
    if torch:
        ts = torch.from_numpy(s)
        fns["torch"] = lambda ts=ts: torch.softmax(ts, -1)
    if tf:
        fs = tf.constant(s)
        fns["tf"] = lambda: tf.nn.softmax(fs)
    rows.append(("softmax (128,1000)", fns))

    rows.append(("grad relu(x@W+b) 32x64x64", _autodiff_fns(gt, peers, rng)))
    return rows


def _autodiff_fns(gt: Any, peers: dict[str, Any], rng: np.random.Generator) -> dict[str, Callable]:
    """Forward + backward of y = reduce_sum(relu(x @ W + b)), x (32, 64), W (64, 64)."""
    x = rng.standard_normal((32, 64)).astype(np.float32)
    w0 = rng.standard_normal((64, 64)).astype(np.float32)
    b0 = rng.standard_normal(64).astype(np.float32)
    gx, gw, gb = gt.constant(x), gt.Variable(w0), gt.Variable(b0)

    def gt_step() -> Any:
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.nn.relu(gt.matmul(gx, gw) + gb))
        return tape.gradient(y, [gw, gb])

    def np_step() -> Any:
        z = x @ w0 + b0
        mask = (z > 0).astype(np.float32)
        return x.T @ mask, mask.sum(0)

    fns = {"gputensor": gt_step, "numpy": np_step}
    torch, tf = peers.get("torch"), peers.get("tf")
    if torch:
        tx = torch.from_numpy(x)
        tw = torch.from_numpy(w0.copy()).requires_grad_()
        tb = torch.from_numpy(b0.copy()).requires_grad_()

        def torch_step() -> Any:
            y = torch.relu(tx @ tw + tb).sum()
            return torch.autograd.grad(y, [tw, tb])

        fns["torch"] = torch_step
    if tf:
        fx, fw, fb = tf.constant(x), tf.Variable(w0), tf.Variable(b0)

        def tf_step() -> Any:
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(tf.nn.relu(tf.matmul(fx, fw) + fb))
            return tape.gradient(y, [fw, fb])

        fns["tf"] = tf_step
    return fns


def gpu_workloads(gt: Any, peers: dict[str, Any], min_time: float) -> None:
    """Bandwidth-bound ops at 1e8 elements against the copy bandwidth; softmax and small ops against peers."""
    import cupy as cp
    import cupyx.scipy.special

    sync = cp.cuda.Stream.null.synchronize
    torch = peers.get("torch")
    torch_gpu = torch is not None and torch.cuda.is_available()
    n = 100_000_000
    a = cp.random.standard_normal(n, dtype=cp.float32)
    b = cp.random.standard_normal(n, dtype=cp.float32)
    dst = cp.empty_like(a)
    copy_s = _timeit(lambda: cp.copyto(dst, a), min_time, sync)
    copy_bw = 2 * a.nbytes / copy_s  # bytes read + written
    with gt.device("/GPU:0"):
        ga, gb = gt.constant(a.get()), gt.constant(b.get())
        add_s = _timeit(lambda: ga + gb, min_time, sync)
        red_s = _timeit(lambda: gt.reduce_sum(ga), min_time, sync)
        cupy_add = _timeit(lambda: a + b, min_time, sync)
        cupy_red = _timeit(lambda: a.sum(), min_time, sync)
        print(
            f"\nGPU ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}): device-to-device copy {copy_bw / 1e9:.0f} GB/s (read + write)"
        )
        print(
            f"GPU add 1e8 f32: {add_s * 1e6:.0f} us, {3 * a.nbytes / add_s / 1e9:.0f} GB/s = {3 * a.nbytes / add_s / copy_bw:.0%} of copy (CuPy {cupy_add * 1e6:.0f} us)"
        )
        print(
            f"GPU reduce_sum 1e8 f32: {red_s * 1e6:.0f} us, {a.nbytes / red_s / 1e9:.0f} GB/s = {a.nbytes / red_s / copy_bw:.0%} of copy (CuPy {cupy_red * 1e6:.0f} us)"
        )
        for shape in ((128, 1000), (4096, 1000), (65536, 1000)):  # the last one: kernel-bound
            x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
            s = gt.constant(x)
            cs = cp.asarray(x)
            soft_s = _timeit(lambda s=s: gt.nn.softmax(s), min_time, sync)
            cupy_soft = _timeit(lambda cs=cs: cupyx.scipy.special.softmax(cs, axis=-1), min_time, sync)
            line = f"GPU softmax {shape}: gputensor {soft_s * 1e6:.1f} us, CuPy {cupy_soft * 1e6:.1f} us"
            best = cupy_soft
            if torch_gpu:
                ts = torch.as_tensor(x, device="cuda")
                t_soft = _timeit(lambda ts=ts: torch.softmax(ts, -1), min_time, torch.cuda.synchronize)
                line += f", PyTorch {t_soft * 1e6:.1f} us"
                best = min(best, t_soft)
            print(f"{line}; gputensor / best = {soft_s / best:.2f}")
            print(f"  kernels alone (launched directly): {_softmax_kernels(gt, s, min_time, sync)}")
        gpu_graph_workloads(gt, peers, min_time, copy_bw)
        x4 = np.ones(4, np.float32)
        g4 = gt.constant(x4)
        c4 = cp.asarray(x4)
        line = f"GPU add of 4 elements (launch + dispatch): gputensor {_timeit(lambda: g4 + g4, min_time, sync) * 1e6:.1f} us, CuPy {_timeit(lambda: c4 + c4, min_time, sync) * 1e6:.1f} us"
        if torch_gpu:
            t4 = torch.as_tensor(x4, device="cuda")
            line += f", PyTorch {_timeit(lambda: t4 + t4, min_time, torch.cuda.synchronize) * 1e6:.1f} us"
        print(line)


def gpu_graph_workloads(
    gt: Any, peers: dict[str, Any], min_time: float, copy_bw: float, sizes: tuple = (1_000_000, 100_000_000)
) -> None:
    """The 8-op chain fused into one kernel against the copy bandwidth; the MLP step under
    gt.function against PyTorch eager and torch.compile (GPU, same run)."""
    import cupy as cp

    sync = cp.cuda.Stream.null.synchronize
    torch = peers.get("torch")
    torch_gpu = torch is not None and torch.cuda.is_available()
    rng = np.random.default_rng(0)
    for n in sizes:
        x = rng.standard_normal(n).astype(np.float32)
        gx = gt.constant(x)
        fn = gt.function(lambda v: chain8(gt, v))
        fused_s = _timeit(lambda gx=gx, fn=fn: fn(gx), min_time, sync)
        eager_s = _timeit(lambda gx=gx: chain8(gt, gx), min_time, sync)
        line = (
            f"GPU 8-op chain {n:.0e} f32: gt.function (fused) {fused_s * 1e6:.0f} us = "
            f"{2 * x.nbytes / fused_s / copy_bw:.0%} of copy; gt eager {eager_s * 1e6:.0f} us "
            f"({eager_s / fused_s:.1f}x)"
        )
        if torch_gpu:
            tx = torch.as_tensor(x, device="cuda")
            line += f"; PyTorch eager {_timeit(lambda tx=tx: chain8(torch, tx), min_time, torch.cuda.synchronize) * 1e6:.0f} us"
            try:
                compiled = torch.compile(lambda v: chain8(torch, v))
                line += f", torch.compile {_timeit(lambda tx=tx, c=compiled: c(tx), min_time, torch.cuda.synchronize) * 1e6:.0f} us"
            except Exception as exc:  # noqa: BLE001 - a peer failing is reported, not fatal
                line += f", torch.compile failed ({type(exc).__name__})"
        print(line)
        del gx, x
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128).astype(np.int32)
    w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
    b1, b2 = np.zeros(256, np.float32), np.zeros(10, np.float32)
    gx, gy = gt.constant(x), gt.constant(labels)
    eager, graph = _mlp_step(gt, w1, b1, w2, b2), gt.function(_mlp_step(gt, w1, b1, w2, b2))
    eager_s = _timeit(lambda: eager(gx, gy), min_time, sync)
    graph_s = _timeit(lambda: graph(gx, gy), min_time, sync)
    line = (
        f"GPU MLP 784-256-10 step b128: gt eager {eager_s * 1e6:.0f} us, gt.function {graph_s * 1e6:.0f} us"
    )
    if torch_gpu:
        step = _torch_mlp_step(torch, "cuda", w1, b1, w2, b2)
        tx, ty = torch.as_tensor(x, device="cuda"), torch.as_tensor(labels.astype(np.int64), device="cuda")
        line += (
            f", PyTorch eager {_timeit(lambda: step(tx, ty), min_time, torch.cuda.synchronize) * 1e6:.0f} us"
        )
        try:
            compiled = torch.compile(_torch_mlp_step(torch, "cuda", w1, b1, w2, b2))
            line += f", torch.compile {_timeit(lambda: compiled(tx, ty), min_time, torch.cuda.synchronize) * 1e6:.0f} us"
        except Exception as exc:  # noqa: BLE001 - a peer failing is reported, not fatal
            line += f", torch.compile failed ({type(exc).__name__})"
    print(line)


_LATER_EPOCHS = 4  # epochs after the first whose median rate the fit table reports


def _keras_models(keras: Any) -> dict[str, tuple]:
    """The fit workloads: (model factory, input shape, batch size), the same code for gt.keras and Keras."""
    layers = keras.layers

    def mlp() -> Any:
        return keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(256, activation="relu"),
                layers.Dense(256, activation="relu"),
                layers.Dense(10),
            ]
        )

    def cnn() -> Any:
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(16, 3, activation="relu"),
                layers.MaxPooling2D(),
                layers.Conv2D(32, 3, activation="relu"),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(10),
            ]
        )

    return {"MLP 784-256-256-10, b128": (mlp, (784,), 128), "small CNN 28x28x1, b64": (cnn, (28, 28, 1), 64)}


def _fit_rates(keras: Any, make: Callable, shape: tuple, batch: int, steps: int) -> tuple[float, float]:
    """Steps per second of ``fit``'s first epoch (tracing included) and the median of the next
    `_LATER_EPOCHS` (one epoch is a fraction of a second: the median keeps a stall out)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps * batch, *shape)).astype(np.float32)
    y = rng.integers(0, 10, steps * batch).astype(np.int32)
    model = make()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, metrics=["accuracy"])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.t0)

    model.fit(x, y, batch_size=batch, epochs=1 + _LATER_EPOCHS, shuffle=False, verbose=0, callbacks=[Timer()])
    return steps / times[0], steps / statistics.median(times[1:])


def _torch_fit_rate(
    torch: Any, name: str, shape: tuple, batch: int, steps: int, device: str = "cpu"
) -> float:
    """Steps per second of a hand-written PyTorch loop over the same model and data (on ``device``)."""
    nn = torch.nn
    if name.startswith("MLP"):
        model = nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
        )
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 5 * 5, 10),
        )  # fmt: skip
    rng = np.random.default_rng(0)
    channels_first = (shape[-1], *shape[:-1]) if len(shape) == 3 else shape
    x = torch.from_numpy(rng.standard_normal((steps * batch, *channels_first)).astype(np.float32)).to(device)
    y = torch.from_numpy(rng.integers(0, 10, steps * batch).astype(np.int64)).to(device)
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> None:
        for i in range(steps):
            xb, yb = x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            (out.argmax(1) == yb).float().mean().item()  # the accuracy Keras's fit reports
            loss.item()

    epoch()
    times = []
    for _ in range(_LATER_EPOCHS):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return steps / statistics.median(times)


def keras_workloads(gt: Any, peers: dict[str, Any], quick: bool = False) -> None:
    """gt.keras fit steps per second against TF-Keras's fit and a hand-written PyTorch loop (CPU),
    and on a visible GPU against the PyTorch loop on that GPU."""
    steps = 20 if quick else 60
    tf, torch = peers.get("tf"), peers.get("torch")
    print(
        f"\n{'fit, steps/s (CPU)':28}{'gt 1st':>10}{'gt later':>10}{'keras 1st':>11}{'keras later':>12}{'torch':>10}"
    )
    with gt.device("/CPU:0"):
        for name, (make, shape, batch) in _keras_models(gt.keras).items():
            cells = [*_fit_rates(gt.keras, make, shape, batch, steps)]
            if tf is not None:
                import keras

                with tf.device("/CPU:0"):
                    cells += _fit_rates(keras, _keras_models(keras)[name][0], shape, batch, steps)
            else:
                cells += [float("nan")] * 2
            cells.append(_torch_fit_rate(torch, name, shape, batch, steps) if torch else float("nan"))
            print(f"{name:28}" + "".join(f"{c:{width}.0f}" for width, c in zip((10, 10, 11, 12, 10), cells)))
    if not any(d.device_type == "GPU" for d in gt.config.list_logical_devices()):
        return
    torch_gpu = torch is not None and torch.cuda.is_available()
    print(f"\n{'fit, steps/s (GPU)':28}{'gt 1st':>10}{'gt later':>10}{'torch':>10}")
    with gt.device("/GPU:0"):
        for name, (make, shape, batch) in _keras_models(gt.keras).items():
            cells = [*_fit_rates(gt.keras, make, shape, batch, steps)]
            cells.append(
                _torch_fit_rate(torch, name, shape, batch, steps, "cuda") if torch_gpu else float("nan")
            )
            print(f"{name:28}" + "".join(f"{c:10.0f}" for c in cells))


def _softmax_kernels(gt: Any, s: Any, min_time: float, sync: Callable) -> str:
    """The register-resident softmax kernel against the three-pass warp/block kernel it
    replaced for rows up to 1024, same input, launched without the op's dispatch."""
    from gputensor.backend.cuda import launch_config
    from gputensor.backend.cuda.families import softmax as fam

    backend = s._device.backend
    x = s._data
    out = backend.empty(x.shape, x.dtype)
    rows, r = x.shape
    src = fam.source_for("softmax")
    k, v = fam.register_shape(r, True)
    regs = (
        f"gt_softmax_float32_regs{k}x{v}",
        launch_config.reduction("warp", rows, r, 1),
        (x, out, np.int64(rows), np.int32(r)),
    )
    layout = "warp" if r <= launch_config.WARP_ROW_LIMIT else "block"
    three = (
        f"gt_softmax_float32_{layout}",
        launch_config.reduction(layout, rows, r, 1),
        (x, out, np.int64(rows), np.int64(r), np.int64(1)),
    )
    cells = []
    for label, (name, config, args) in (("registers", regs), ("three-pass", three)):
        t = _timeit(lambda n=name, c=config, a=args: backend.launch(src, n, c, a), min_time, sync)
        cells.append(f"{label} {t * 1e6:.1f} us ({2 * x.nbytes / t / 1e9:.0f} GB/s)")
    return ", ".join(cells)


def _mlp(gt: Any, peers: dict[str, Any], rng: np.random.Generator) -> dict[str, Callable]:
    """One SGD step of a 784-256-10 relu MLP with sparse softmax cross-entropy, batch 128."""
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128).astype(np.int32)
    w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
    b1, b2 = np.zeros(256, np.float32), np.zeros(10, np.float32)

    def make_gt_step(mod: Any) -> Callable:
        return _mlp_step(mod, w1, b1, w2, b2)

    gx, gy = gt.constant(x), gt.constant(labels)
    eager, graph = make_gt_step(gt), gt.function(make_gt_step(gt))
    fns = {"gt eager": lambda: eager(gx, gy), "gt.function": lambda: graph(gx, gy)}
    p = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]

    def np_step() -> Any:
        a, b, c, d = p
        z = x @ a + b
        h = np.maximum(z, 0)
        logits = h @ c + d
        e = np.exp(logits - logits.max(1, keepdims=True))
        prob = e / e.sum(1, keepdims=True)
        loss = -np.log(prob[np.arange(128), labels]).mean()
        g = prob
        g[np.arange(128), labels] -= 1.0
        g /= 128
        gc, gd = h.T @ g, g.sum(0)
        gh = (g @ c.T) * (z > 0)
        ga, gb = x.T @ gh, gh.sum(0)
        for v, grad in zip(p, (ga, gb, gc, gd)):
            v -= 0.1 * grad
        return loss

    fns["numpy"] = np_step
    tf, torch = peers.get("tf"), peers.get("torch")
    if tf:
        tx, ty = tf.constant(x), tf.constant(labels)
        tf_eager, tf_graph = make_gt_step(tf), tf.function(make_gt_step(tf))
        fns["tf eager"] = lambda: tf_eager(tx, ty)
        fns["tf.function"] = lambda: tf_graph(tx, ty)
    if torch:
        step = _torch_mlp_step(torch, "cpu", w1, b1, w2, b2)
        px, py = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
        fns["torch eager"] = lambda: step(px, py)
    return fns


def _mlp_step(mod: Any, *weights: np.ndarray) -> Callable:
    """The MLP's SGD step in gputensor or TF (the same code), on variables made here."""
    params = [mod.Variable(w) for w in weights]

    def step(x: Any, y: Any) -> Any:
        a, b, c, d = params
        with mod.GradientTape() as tape:
            h = mod.nn.relu(mod.matmul(x, a) + b)
            logits = mod.matmul(h, c) + d
            loss = mod.reduce_mean(mod.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        for v, g in zip(params, tape.gradient(loss, params)):
            v.assign_sub(0.1 * g)
        return loss

    return step


def _torch_mlp_step(torch: Any, device: str, *weights: np.ndarray) -> Callable:
    params = [torch.tensor(w, requires_grad=True, device=device) for w in weights]

    def step(px: Any, py: Any) -> Any:
        a, b, c, d = params
        logits = torch.relu(px @ a + b) @ c + d
        loss = torch.nn.functional.cross_entropy(logits, py)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for v, g in zip(params, grads):
                v -= 0.1 * g
        return loss

    return step


def chain8(mod: Any, v: Any) -> Any:
    """Eight elementwise ops (multiply, add, multiply, subtract, multiply, negative, exp, add)."""
    t = v * 1.5 + 0.5
    t = t * v - 0.25
    return mod.exp(-(t * t)) + v


def _chain(gt: Any, peers: dict[str, Any], rng: np.random.Generator) -> dict[str, Callable]:
    """Eight elementwise ops on 1e6 float32."""
    x = rng.standard_normal(1_000_000).astype(np.float32)
    chain = chain8

    gx = gt.constant(x)
    graph = gt.function(lambda v: chain(gt, v))
    fns = {"gt eager": lambda: chain(gt, gx), "gt.function": lambda: graph(gx), "numpy": lambda: chain(np, x)}
    tf = peers.get("tf")
    if tf:
        tx = tf.constant(x)
        tf_graph = tf.function(lambda v: chain(tf, v))
        fns["tf eager"] = lambda: chain(tf, tx)
        fns["tf.function"] = lambda: tf_graph(tx)
    return fns


def _timeit_together(fns: dict[str, Callable[[], Any]], min_time: float, rounds: int = 7) -> dict[str, float]:
    """`_timeit` for several functions at once: batch sizes found per function, then ``rounds``
    rounds that each time every function's batch once, in turn, each round starting one function
    later (so none always follows the same one: a peer's worker threads still spinning after its
    batch slow whatever runs next); the median per function. A ratio of two of them then
    compares samples taken seconds apart, not one function's whole run against the other's
    (the machine's speed drifts between runs of a few seconds)."""
    sizes = {name: _batch_size(fn, min_time) for name, fn in fns.items()}
    samples: dict[str, list] = {name: [] for name in fns}
    order = list(fns)
    for r in range(rounds):
        for name in order[r % len(order) :] + order[: r % len(order)]:
            fn, n = fns[name], sizes[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(values) for name, values in samples.items()}


def graph_workloads(gt: Any, peers: dict[str, Any], min_time: float) -> None:
    """gt.function against gputensor eager and the peers' eager and graph modes (CPU)."""
    rng = np.random.default_rng(0)
    libs = ["gt eager", "gt.function", "numpy", "torch eager", "tf eager", "tf.function"]
    print(f"\n{'graph workload (CPU)':28}" + "".join(f"{lib:>13}" for lib in libs) + "   eager/fn  fn/tf.fn")
    with gt.device("/CPU:0"):
        for name, fns in (
            ("MLP 784-256-10 step, b128", _mlp(gt, peers, rng)),
            ("8 elementwise ops, 1e6", _chain(gt, peers, rng)),
        ):
            times = _timeit_together(fns, min_time)
            cells = "".join(f"{times[lib] * 1e6:11.1f}us" if lib in times else f"{'-':>13}" for lib in libs)
            speedup = times["gt eager"] / times["gt.function"]
            vs_tf = (
                f"{times['gt.function'] / times['tf.function']:8.2f}"
                if "tf.function" in times
                else "       -"
            )
            print(f"{name:28}{cells}   {speedup:8.2f}  {vs_tf}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing runs")
    parser.add_argument(
        "--only",
        choices=("cpu", "graph", "keras", "gpu"),
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    parts = set(args.only or ("cpu", "graph", "keras", "gpu"))
    min_time = 0.2 if args.quick else 1.0

    import gputensor as gt

    peers = _peers()
    cpu = platform.processor() or platform.machine()
    print(f"gputensor {gt.__version__} | numpy {np.__version__} | "
          f"torch {getattr(peers.get('torch'), '__version__', '-')} | tf {getattr(peers.get('tf'), '__version__', '-')}")  # fmt: skip
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    libs = ["gputensor", "numpy", "torch", "tf"]
    if "cpu" in parts:
        print(f"{'workload (CPU)':28}" + "".join(f"{lib:>12}" for lib in libs) + "   gt/np  gt/torch  gt/tf")
    with gt.device("/CPU:0"):
        for name, fns in cpu_workloads(gt, peers) if "cpu" in parts else ():
            times = _timeit_together(fns, min_time)
            cells = "".join(f"{times[lib] * 1e6:10.2f}us" if lib in times else f"{'-':>12}" for lib in libs)
            ratios = "  ".join(
                f"{times['gputensor'] / times[p]:6.2f}" if p in times else "     -"
                for p in ("numpy", "torch", "tf")
            )
            overhead = (times["gputensor"] - times["numpy"]) * 1e6
            print(f"{name:28}{cells}   {ratios}   (+{overhead:.2f}us over numpy)")
    if "graph" in parts:
        graph_workloads(gt, peers, min_time)
    if "keras" in parts:
        keras_workloads(gt, peers, quick=args.quick)
    if "gpu" not in parts:
        pass
    elif any(d.device_type == "GPU" for d in gt.config.list_logical_devices()):
        gpu_workloads(gt, peers, min_time)
    else:
        print("\nno GPU visible: GPU rows skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
