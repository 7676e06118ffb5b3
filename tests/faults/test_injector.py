"""The fault injector itself (tests/faults/inject/sitecustomize.py): it fails exactly the calls
it is told to, from the k-th on, with the errno asked for, and nothing without the variable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.homes import FAULT_VARIABLE, INJECT_FOLDER, LOG_VARIABLE

# Writes five pieces through open() and one through os.fdopen(); prints what each did.
WRITER = """
import os, sys
target, other = sys.argv[1], sys.argv[2]
with open(target, "wb") as handle:
    for piece in range(5):
        try:
            handle.write(b"x" * 100_000)
            handle.flush()
            print("ok", flush=True)
        except OSError as error:
            print(error.errno, flush=True)
descriptor = os.open(other, os.O_WRONLY | os.O_CREAT)
with os.fdopen(descriptor, "wb") as handle:
    handle.write(b"y")
try:
    print(open(other, "rb").read().decode(), flush=True)
except OSError as error:
    print(error.errno, flush=True)
os.write(1, b"stdout\\n")
"""


def run_writer(tmp_path: Path, fault: str | None) -> tuple[list[str], list[str]]:
    env = {**os.environ, "PYTHONPATH": str(INJECT_FOLDER)}
    log = tmp_path / "faults.log"
    if fault:
        env[FAULT_VARIABLE], env[LOG_VARIABLE] = fault, str(log)
    result = subprocess.run([sys.executable, "-c", WRITER, str(tmp_path / "target.bin"),
                             str(tmp_path / "other.bin")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split(), log.read_text().splitlines() if log.exists() else []


def test_without_the_variable_nothing_fails(tmp_path):
    assert run_writer(tmp_path, None) == (["ok"] * 5 + ["y", "stdout"], [])


@pytest.mark.parametrize("error, number", [("ENOSPC", 28), ("EIO", 5), ("ENODEV", 19)])
def test_the_kth_matching_write_and_every_later_one_fail(tmp_path, error, number):
    printed, injected = run_writer(tmp_path, f"write:3:{error}:target.bin")
    assert printed == ["ok", "ok", str(number), str(number), str(number), "y", "stdout"]
    assert [line.split()[:3] for line in injected] == [
        ["write", "3", error], ["write", "4", error], ["write", "5", error]]


def test_a_read_fault_leaves_writes_and_other_files_alone(tmp_path):
    printed, injected = run_writer(tmp_path, "read:1:EIO:target.bin")
    assert printed == ["ok"] * 5 + ["y", "stdout"] and injected == []
    printed, injected = run_writer(tmp_path, "read:1:EIO:other.bin")
    assert printed == ["ok"] * 5 + ["5", "stdout"]  # the read-back failed
    assert injected[0].split()[:3] == ["read", "1", "EIO"]
