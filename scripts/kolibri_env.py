"""Build, or reuse, a separate virtual environment holding the real Kolibri 0.19.5.

The interoperability tests (`tests/interop/`) prove that our drives import into Kolibri and
that Kolibri's drives import here. Kolibri pins Django 3.2, so it can never share our venv: it
gets its own, built once with this machine's python3.11 and `pip install kolibri==0.19.5`
(from PyPI) and cached under `.cache/kolibri-0.19.5/` in the checkout (gitignored). A stamp file
is written only after Kolibri answers `kolibri --version`, so a half-built environment is never
reused: it is deleted and built again.

    python -m scripts.kolibri_env          # builds if needed, prints the venv's folder
    from scripts.kolibri_env import ensure_kolibri_env
    kolibri_env = ensure_kolibri_env()      # KolibriEnv(root=..., python=..., kolibri=...)

Failures raise `KolibriEnvError` with the tool's output, so a test run fails with the reason
instead of skipping.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

KOLIBRI_VERSION = "0.19.5"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache"
STAMP_NAME = ".kolibri-installed"
VENV_TIMEOUT_SECONDS = 180
PIP_TIMEOUT_SECONDS = 900
CHECK_TIMEOUT_SECONDS = 120
LOCK_TIMEOUT_SECONDS = PIP_TIMEOUT_SECONDS + VENV_TIMEOUT_SECONDS + 60


class KolibriEnvError(RuntimeError):
    """The Kolibri environment could not be built or does not work."""


@dataclass(frozen=True)
class KolibriEnv:
    """A working Kolibri virtual environment: its folder, its python and its `kolibri` script."""

    root: Path
    python: Path
    kolibri: Path
    version: str


def find_python311() -> str:
    """This machine's Python 3.11: Kolibri 0.19 supports it, and our own venv uses it too."""
    if sys.version_info[:2] == (3, 11) and sys.executable:
        # Inside our own venv sys.executable is a venv python; `-m venv` from it still makes an
        # independent venv (with its own site-packages), which is all Kolibri needs.
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise KolibriEnvError("python3.11 was not found on PATH; Kolibri 0.19.5 needs it here")
    return found


def kolibri_env_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or DEFAULT_CACHE_DIR) / f"kolibri-{KOLIBRI_VERSION}"


def ensure_kolibri_env(cache_dir: Path | None = None) -> KolibriEnv:
    """Return the cached Kolibri environment, building it first when it is missing or broken.

    1. Take an exclusive lock beside the venv (bounded wait), so two test runs never build
       into the same folder at once.
    2. If the stamp exists and `kolibri --version` answers, reuse the venv.
    3. Otherwise delete whatever is there, create the venv, pip install Kolibri, check it, and
       write the stamp last.
    """
    root = kolibri_env_dir(cache_dir)
    root.parent.mkdir(parents=True, exist_ok=True)
    lock_path = root.parent / f"kolibri-{KOLIBRI_VERSION}.lock"
    with open(lock_path, "w") as lock_file:
        _lock_with_deadline(lock_file.fileno(), LOCK_TIMEOUT_SECONDS)
        try:
            env = _existing_env(root)
            if env is not None:
                return env
            return _build_env(root)
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _lock_with_deadline(descriptor: int, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise KolibriEnvError(
                    f"another process held the Kolibri venv lock for {timeout_seconds:.0f}s"
                ) from None
            time.sleep(0.5)


def _paths(root: Path) -> tuple[Path, Path]:
    return root / "bin" / "python", root / "bin" / "kolibri"


def _existing_env(root: Path) -> KolibriEnv | None:
    python, kolibri = _paths(root)
    if not (root / STAMP_NAME).is_file() or not kolibri.is_file():
        return None
    try:
        version = _check_version(root)
    except KolibriEnvError:
        return None
    return KolibriEnv(root=root, python=python, kolibri=kolibri, version=version)


def _build_env(root: Path) -> KolibriEnv:
    if root.exists():
        shutil.rmtree(root)
    python, kolibri = _paths(root)
    _run([find_python311(), "-m", "venv", str(root)], VENV_TIMEOUT_SECONDS, "create the venv")
    try:
        _run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
              "--no-input", f"kolibri=={KOLIBRI_VERSION}"],
             PIP_TIMEOUT_SECONDS, f"pip install kolibri=={KOLIBRI_VERSION}")
        version = _check_version(root)
    except KolibriEnvError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    (root / STAMP_NAME).write_text(f"{version}\n")
    return KolibriEnv(root=root, python=python, kolibri=kolibri, version=version)


def _check_version(root: Path) -> str:
    """Ask Kolibri itself for its version: proves the install imports, not just that files exist."""
    python, _ = _paths(root)
    result = _run([str(python), "-c", "import kolibri; print(kolibri.__version__)"],
                  CHECK_TIMEOUT_SECONDS, "import kolibri")
    version = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if not version.startswith(KOLIBRI_VERSION):
        raise KolibriEnvError(f"expected Kolibri {KOLIBRI_VERSION}, the venv has {version!r}")
    return version


def _run(command: list[str], timeout: float, purpose: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE")}
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        raise KolibriEnvError(f"could not {purpose}: no answer within {timeout:.0f}s") from error
    except OSError as error:
        raise KolibriEnvError(f"could not {purpose}: {error}") from error
    if result.returncode != 0:
        raise KolibriEnvError(f"could not {purpose} (exit {result.returncode}):\n"
                              f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def main() -> int:
    started = time.monotonic()
    try:
        env = ensure_kolibri_env()
    except KolibriEnvError as error:
        print(f"Kolibri environment: {error}", file=sys.stderr)
        return 1
    print(f"Kolibri {env.version} in {env.root} ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
