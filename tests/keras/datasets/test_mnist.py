"""gt.keras.datasets.mnist.load_data with a locally written file: the cache, the checksum, the
download (a fake server), corrupted downloads and the offline message."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error

import numpy as np
import pytest

from gputensor.keras.datasets import download, mnist


def _mnist_bytes() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez(
        buf,
        x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        y_train=np.arange(6, dtype=np.uint8),
        x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        y_test=np.array([3, 4], np.uint8),
    )
    return buf.getvalue()


class _Response(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUTENSOR_DATASETS", str(tmp_path))
    data = _mnist_bytes()
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(data).hexdigest())
    return tmp_path, data


def _offline(*args, **kwargs):
    raise urllib.error.URLError("no network")


def test_a_cached_file_with_the_right_checksum_is_used_without_network(cache, monkeypatch):
    folder, data = cache
    (folder / "mnist.npz").write_bytes(data)
    monkeypatch.setattr(download.urllib.request, "urlopen", _offline)
    (x, y), (xt, yt) = mnist.load_data()
    assert x.shape == (6, 28, 28) and x.dtype == np.uint8 and list(y) == list(range(6)) and list(yt) == [3, 4]


def test_a_missing_file_is_downloaded_checked_and_kept(cache, monkeypatch):
    folder, data = cache
    urls = []
    monkeypatch.setattr(
        download.urllib.request, "urlopen", lambda url, timeout: urls.append(url) or _Response(data)
    )
    out = io.StringIO()
    path = download.get_file("mnist.npz", mnist.ORIGIN, mnist.SHA256, stream=out)
    assert urls == [mnist.ORIGIN] and path == os.path.join(folder, "mnist.npz")
    assert (folder / "mnist.npz").read_bytes() == data and "Downloading" in out.getvalue()
    assert os.listdir(folder) == ["mnist.npz"]  # no temporary file left
    mnist.load_data()  # now cached: no second download
    assert urls == [mnist.ORIGIN]


def test_a_corrupted_download_is_refused_and_leaves_nothing(cache, monkeypatch):
    folder, data = cache
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: _Response(data[:-10]))
    with pytest.raises(OSError, match="corrupted"):
        mnist.load_data()
    assert os.listdir(folder) == []


def test_offline_the_error_names_the_file_to_place(cache, monkeypatch):
    folder, _ = cache
    monkeypatch.setattr(download.urllib.request, "urlopen", _offline)
    with pytest.raises(OSError) as info:
        mnist.load_data()
    message = str(info.value)
    assert (
        mnist.ORIGIN in message and os.path.join(folder, "mnist.npz") in message and mnist.SHA256 in message
    )
    assert os.listdir(folder) == []
