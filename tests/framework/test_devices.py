"""Devices: listing, placement, implicit copies, logical splits and memory statistics."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gputensor as gt


def test_physical_and_logical_devices_include_cpu0():
    phys = gt.config.list_physical_devices()
    assert phys[0].name == "/physical_device:CPU:0" and phys[0].device_type == "CPU"
    assert gt.config.list_physical_devices("CPU") == [phys[0]]
    logical = gt.config.list_logical_devices("CPU")
    assert logical[0].name == "/device:CPU:0"


def test_device_scope_places_ops_and_reports_full_name():
    with gt.device("/CPU:0"):
        x = gt.constant([1.0])
    assert x.device == "/job:localhost/replica:0/task:0/device:CPU:0"


def test_unknown_device_raises_not_found_when_soft_placement_is_off():
    assert gt.config.get_soft_device_placement()  # TF's default
    gt.config.set_soft_device_placement(False)
    try:
        with pytest.raises(gt.errors.NotFoundError, match="GPU:7.*known devices"):
            with gt.device("/GPU:7"):
                pass
    finally:
        gt.config.set_soft_device_placement(True)


def test_soft_placement_runs_ops_of_an_unknown_device_elsewhere():
    # TF on a CPU-only machine: `with tf.device("GPU:0")` runs on the CPU; "CPU:9" on CPU:0.
    a = gt.constant([1.0, 2.0])
    with gt.device("/GPU:7"):
        k = a * 2.0
    assert k.device == a.device
    np.testing.assert_array_equal(k.numpy(), [2.0, 4.0])
    with gt.device("/CPU:9"):
        c = gt.constant([3.0])
    assert c.device == "/job:localhost/replica:0/task:0/device:CPU:0"


def test_bad_device_name_raises_value_error():
    with pytest.raises(ValueError, match="cannot parse"):
        with gt.device("/TPU:0"):
            pass


def _run(code: str, env_extra: dict | None = None) -> str:
    import os

    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_split_cpu_into_logical_devices_and_copy_between_them():
    out = _run(
        """
        import gputensor as gt, numpy as np
        cpu = gt.config.list_physical_devices("CPU")[0]
        gt.config.set_logical_device_configuration(cpu, [gt.config.LogicalDeviceConfiguration()] * 3)
        names = [d.name for d in gt.config.list_logical_devices("CPU")]
        with gt.device("/CPU:1"):
            a = gt.constant([1.0, 2.0])
        with gt.device("/CPU:2"):
            b = a + 1.0
        print(names, a.device[-5:], b.device[-5:], b.numpy().tolist())
        try:
            gt.config.set_logical_device_configuration(cpu, [gt.config.LogicalDeviceConfiguration()])
        except RuntimeError as e:
            print("frozen:", e)
        """
    )
    assert "['/device:CPU:0', '/device:CPU:1', '/device:CPU:2']" in out
    assert "CPU:1 CPU:2 [2.0, 3.0]" in out
    assert "frozen: Virtual devices cannot be modified after being initialized" in out


def test_gputensor_device_cpu_forces_cpu_backend():
    out = _run("import gputensor as gt; print(gt.constant(1.0).device)", {"GPUTENSOR_DEVICE": "cpu"})
    assert out.strip().endswith("device:CPU:0")


def test_memory_info_counts_live_tensor_bytes_and_peak():
    gt.config.experimental.reset_memory_stats("CPU:0")
    before = gt.config.experimental.get_memory_info("CPU:0")
    with gt.device("/CPU:0"):
        t = gt.constant(np.zeros(1000, np.float32))
        mid = gt.config.experimental.get_memory_info("CPU:0")
        del t
    after = gt.config.experimental.get_memory_info("CPU:0")
    assert mid["current"] - before["current"] == 4000
    assert after["current"] == before["current"]
    assert after["peak"] >= before["current"] + 4000


def test_device_details_of_cpu_is_empty():
    assert gt.config.experimental.get_device_details(gt.config.list_physical_devices("CPU")[0]) == {}
