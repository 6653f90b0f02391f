"""Every CUDA compilation unit the backend can launch compiles with NVRTC for sm_80 and sm_90.

The units and options come from gputensor.backend.cuda.compile, the same place the
CUDA backend compiles from, so this check cannot drift from what runs on a GPU.
NVRTC needs no GPU or driver. Warnings count as errors.
"""

from __future__ import annotations

import pytest

from gputensor.backend.cuda import compile as kcompile

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="NVRTC comes with the test extra (cupy)")

SOURCES = kcompile.all_sources()


@pytest.mark.parametrize("arch", kcompile.ARCHS)
@pytest.mark.parametrize("source", SOURCES, ids=[s.key for s in SOURCES])
def test_unit_compiles_with_nvrtc_without_warnings(source, arch):
    cubin = kcompile.compile_cubin(source, arch)
    assert cubin[:4] == b"\x7fELF"  # a real device binary came back
    for name in source.names:
        assert name.encode() in cubin, f"{name} missing from the cubin of {source.key}"


def test_kernel_names_are_unique_across_units():
    names = [n for s in SOURCES for n in s.names]
    assert len(names) == len(set(names))


def test_broken_source_reports_nvrtc_log():
    bad = kcompile.KernelSource("test", "broken", 'extern "C" __global__ void k() { undefined_x; }', ("k",))
    with pytest.raises(kcompile.CompileError, match="undefined_x"):
        kcompile.compile_cubin(bad, "sm_90")


def test_cache_key_changes_with_source_and_arch():
    a = kcompile.KernelSource("t", "k", "// one", ("k",))
    b = kcompile.KernelSource("t", "k", "// two", ("k",))
    assert kcompile.cache_key(a, "sm_90") != kcompile.cache_key(b, "sm_90")
    assert kcompile.cache_key(a, "sm_80") != kcompile.cache_key(a, "sm_90")
