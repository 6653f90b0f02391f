"""The devices the test suite runs every op on."""

from __future__ import annotations

from gputensor.backend import registry


def test_devices() -> list:
    """Real logical devices, one per backend kind, plus the emulated CUDA device if buildable."""
    seen, out = set(), []
    for d in registry.devices():
        if d.device_type not in seen:
            seen.add(d.device_type)
            out.append(d)
    out.extend(_emulated())
    return out


def _emulated() -> list:
    try:
        from tests.cuda_harness import emulated_device
    except ImportError:
        return []
    dev = emulated_device()
    return [] if dev is None else [dev]
