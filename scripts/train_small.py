"""Train a small two-layer classifier with gputensor ops and GradientTape; prints the loss falling.

    python scripts/train_small.py [--steps 300] [--device /CPU:0]

Runs on GPU:0 when a GPU is visible, else on the CPU. The data is a synthetic,
separable 3-class problem made from a fixed seed, so the run needs no download.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gputensor as gt  # noqa: E402


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]], dtype=np.float32)
    labels = rng.integers(0, 3, size=n)
    points = centers[labels] + 0.5 * rng.standard_normal((n, 2)).astype(np.float32)
    return points, labels.astype(np.int32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--device", default=None, help="e.g. /CPU:0 or /GPU:0 (default: GPU if present)")
    args = parser.parse_args()

    device = args.device or ("/GPU:0" if gt.config.list_physical_devices("GPU") else "/CPU:0")
    rng = np.random.default_rng(0)
    x_np, y_np = make_data(512, rng)
    with gt.device(device):
        gt.random.set_seed(0)
        x, y = gt.constant(x_np), gt.constant(y_np)
        w1 = gt.Variable(gt.random.normal([2, 32], stddev=0.5), name="w1")
        b1 = gt.Variable(gt.zeros([32]), name="b1")
        w2 = gt.Variable(gt.random.normal([32, 3], stddev=0.5), name="w2")
        b2 = gt.Variable(gt.zeros([3]), name="b2")
        params = [w1, b1, w2, b2]
        print(f"training on {x.device} ({len(x_np)} points, 3 classes)")
        start = time.perf_counter()
        for step in range(args.steps + 1):
            with gt.GradientTape() as tape:
                hidden = gt.nn.relu(gt.matmul(x, w1) + b1)
                logits = gt.matmul(hidden, w2) + b2
                loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            grads = tape.gradient(loss, params)
            for p, g in zip(params, grads):
                p.assign_sub(args.lr * g)
            if step % 50 == 0:
                accuracy = float(
                    gt.reduce_mean(
                        gt.cast(gt.equal(gt.argmax(logits, axis=1, output_type=gt.int32), y), gt.float32)
                    )
                )
                print(f"step {step:4d}  loss {float(loss):.4f}  accuracy {accuracy:.3f}")
        print(f"done in {time.perf_counter() - start:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
