"""Writes the fixture of every TF guide module (``tests/*/guides/guide_<name>.py`` with a
``run(tf)``): ``fixtures/<name>.txt`` beside it, what ``run(tensorflow)`` prints. Run with a
Python that has tensorflow-cpu 2.21, optionally naming guides:

    /work/peers/bin/python scripts/make_tf_guide_fixtures.py [function graphs ...]
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tensorflow as tf  # noqa: E402


def guide_modules() -> list[Path]:
    """The guide modules written as ``run(tf)`` (the Keras guides' blocks have their own script)."""
    return sorted(p for p in ROOT.glob("tests/*/guides/guide_*.py") if "\ndef run(tf" in p.read_text())


def main(names: list[str]) -> None:
    for path in guide_modules():
        name = path.stem.removeprefix("guide_")
        if names and name not in names:
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            module.run(tf)
        out_dir = path.parent / "fixtures"
        out_dir.mkdir(exist_ok=True)
        tmp = out_dir / f".{name}.txt.tmp"
        tmp.write_text(buffer.getvalue())
        tmp.replace(out_dir / f"{name}.txt")
        print(f"{path.relative_to(ROOT)}: {len(buffer.getvalue().splitlines())} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
