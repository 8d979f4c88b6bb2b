"""hbc_mini builds with the plain g++ line (no third-party header or library), and
the CMake binary is static, stripped and at most 2 MiB."""

import os
import shutil
import subprocess
import tempfile


from hbtest import SOURCE_DIR, hb_binary

MINI = hb_binary("hbc_mini")


def test_cmake_binary_is_static_and_small():
    assert os.path.exists(MINI), f"hbc_mini is part of the build: {MINI} is missing"
    r = subprocess.run(["ldd", MINI], capture_output=True, text=True)
    assert "not a dynamic executable" in (r.stdout + r.stderr)
    assert os.path.getsize(MINI) <= 2 * 1024 * 1024
    r = subprocess.run(["file", MINI], capture_output=True, text=True)
    if r.returncode == 0:
        assert "stripped" in r.stdout and "not stripped" not in r.stdout
    r = subprocess.run([MINI, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("hbc_mini ")


def test_plain_gpp_line_builds_it():
    out = tempfile.mkdtemp()
    try:
        exe = os.path.join(out, "hbc_mini")
        r = subprocess.run(["g++", "-std=c++20", "-O2", "-Iinclude", "src/main_mini.cpp", "-o", exe],
                           cwd=SOURCE_DIR, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([exe, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: hbc_mini" in r.stdout
        r = subprocess.run([exe], capture_output=True, text=True)
        assert r.returncode == 2 and "SERVER is required" in r.stderr
    finally:
        shutil.rmtree(out)
