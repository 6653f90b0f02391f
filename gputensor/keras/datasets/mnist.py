"""MNIST handwritten digits, as ``keras.datasets.mnist``."""

from __future__ import annotations

import numpy as np

from gputensor.keras.datasets import download

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> tuple:
    """Loads MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8 images (N, 28, 28) and labels.

    The file (11 MB) is downloaded once from Keras's public location into the cache
    (``~/.gputensor/datasets``, or ``$GPUTENSOR_DATASETS``) and checked against its SHA-256.

    Args:
      path: the file name in the cache folder.

    Raises:
      OSError: offline with no cached copy (the message names the file to place and where).
    """
    local = download.get_file(path, ORIGIN, SHA256)
    with np.load(local, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
