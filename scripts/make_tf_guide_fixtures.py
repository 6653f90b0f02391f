"""Writes tests/graph/guides/fixtures/<guide>.txt: what each guide module prints when run with
TensorFlow. Run with a Python that has tensorflow-cpu 2.21:

    /work/peers/bin/python scripts/make_tf_guide_fixtures.py
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tensorflow as tf  # noqa: E402

from tests.graph.guides import guide_function, guide_graphs  # noqa: E402

GUIDES = {"function": guide_function, "graphs": guide_graphs}


def main() -> None:
    out_dir = ROOT / "tests" / "graph" / "guides" / "fixtures"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, module in GUIDES.items():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            module.run(tf)
        tmp = out_dir / f".{name}.txt.tmp"
        tmp.write_text(buffer.getvalue())
        tmp.replace(out_dir / f"{name}.txt")
        print(f"{name}: {len(buffer.getvalue().splitlines())} lines")


if __name__ == "__main__":
    main()
