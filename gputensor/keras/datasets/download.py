"""Fetching a data set file once into the cache, checked against its SHA-256.

The cache folder is ``$GPUTENSOR_DATASETS`` or ``~/.gputensor/datasets``. A download goes to
a temporary name in that folder and is renamed only after its checksum matched, so an
interrupted or corrupted download never stands in for the file. Offline, the error names the
URL and the exact path to place the file at.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from typing import Any


def cache_dir() -> str:
    return os.environ.get("GPUTENSOR_DATASETS") or os.path.join(
        os.path.expanduser("~"), ".gputensor", "datasets"
    )


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _progress(done: int, total: int | None, stream: Any) -> None:
    if total:
        width = 30
        filled = int(width * done / total)
        stream.write(f"\r{done / 1e6:7.1f}/{total / 1e6:.1f} MB [{'=' * filled}{'.' * (width - filled)}]")
    else:
        stream.write(f"\r{done / 1e6:7.1f} MB")
    stream.flush()


def get_file(fname: str, origin: str, sha256: str, stream: Any = None) -> str:
    """The local path of ``fname``, downloaded from ``origin`` into the cache if absent or wrong.

    Raises:
      OSError: the file is absent and cannot be downloaded (the message says where to put it),
        or the download's checksum does not match.
    """
    folder = cache_dir()
    path = os.path.join(folder, fname)
    if os.path.exists(path) and sha256_of(path) == sha256:
        return path
    os.makedirs(folder, exist_ok=True)
    stream = stream or sys.stderr
    fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(origin, timeout=30) as response:  # noqa: S310 - a fixed https URL
                    total = int(response.headers.get("Content-Length") or 0) or None
                    done = 0
                    stream.write(f"Downloading {origin}\n")
                    while block := response.read(1 << 16):
                        out.write(block)
                        done += len(block)
                        _progress(done, total, stream)
                    stream.write("\n")
            except (urllib.error.URLError, OSError) as exc:
                raise OSError(
                    f"could not download {origin} ({exc}). Without network access, fetch that file "
                    f"elsewhere and place it at {path} (SHA-256 {sha256})"
                ) from exc
        got = sha256_of(tmp)
        if got != sha256:
            raise OSError(
                f"the download of {origin} is corrupted: SHA-256 {got}, expected {sha256}; try again"
            )
        os.replace(tmp, path)
        return path
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
