"""Train a small CNN with gt.keras compile/fit; prints Keras's progress bar and the test accuracy.

    python scripts/train.py                    # 8x8 digits bundled with scikit-learn (offline)
    python scripts/train.py --data mnist       # MNIST, downloaded once into ~/.gputensor/datasets
    python scripts/train.py --epochs 20 --save digits.weights.h5

Runs on GPU:0 when a GPU is visible, else on the CPU, and saves the trained weights
(Keras 3 ``.weights.h5``, readable by ``keras.Model.load_weights`` for the same architecture).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gputensor as gt  # noqa: E402


def load(name: str) -> tuple:
    """((x_train, y_train), (x_test, y_test)): images NHWC float32 in [0, 1], int32 labels."""
    if name == "mnist":
        (x, y), (xt, yt) = gt.keras.datasets.mnist.load_data()
        return (x[..., None] / np.float32(255), y.astype(np.int32)), (
            xt[..., None] / np.float32(255),
            yt.astype(np.int32),
        )
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / np.float32(16)).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(0.8 * len(labels))
    return (images[:split], labels[:split]), (images[split:], labels[split:])


def build(input_shape: tuple) -> object:
    layers = gt.keras.layers
    return gt.keras.Sequential(
        [
            gt.keras.Input(input_shape),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            *([] if input_shape[0] <= 8 else [layers.MaxPooling2D()]),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("digits", "mnist"), default="digits")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--save", default="digits_cnn.weights.h5", help="where the weights go ('' to skip)")
    parser.add_argument("--device", default=None, help="e.g. /CPU:0 or /GPU:0 (default: GPU if present)")
    args = parser.parse_args()

    device = args.device or ("/GPU:0" if gt.config.list_physical_devices("GPU") else "/CPU:0")
    (x, y), (xt, yt) = load(args.data)
    gt.random.set_seed(0)
    print(f"{args.data}: {len(y)} training and {len(yt)} test images of {x.shape[1:]}, on {device}")
    with gt.device(device):
        model = build(x.shape[1:])
        model.compile(
            optimizer=gt.keras.optimizers.Adam(1e-3),
            loss=gt.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1, verbose=1)
        seconds = time.perf_counter() - start
        loss, accuracy = model.evaluate(xt, yt, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} ({seconds:.1f} s of training)")
    if args.save:
        model.save_weights(args.save)
        print(f"weights saved to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
