"""`make wheelhouse`: everything a school server without internet needs to install kolibri-like.

    python -m scripts.wheelhouse                    # dist/wheelhouse/ and its .tar.gz
    python -m scripts.wheelhouse --output /tmp/wh --no-archive

1. Copy the project's source to a temporary folder and build its wheel there with every
   dependency's wheel, for this Python and platform (`pip wheel`, from the configured index:
   whatever pip.conf points at; nothing else is fetched). Building from a copy keeps setuptools'
   `build/` and `*.egg-info` out of a checkout that others share.
2. Add pip's own wheel (Debian's python3 lacks ensurepip without the python3-venv package, so
   the install script bootstraps pip from this wheel), `install-offline.sh`, the Python version
   the wheels are for, and SHA256SUMS (a copy carried on a USB stick can be checked).
3. Write it all to `<output>.partial`, then replace `<output>` with it, then pack
   `<output>/../kolibri-like-<version>-wheelhouse.tar.gz` (one file to carry).

On the offline machine: `tar xzf kolibri-like-*-wheelhouse.tar.gz && sh */install-offline.sh`,
or by hand: `pip install --no-index --find-links <folder> kolibri-like`.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = ROOT / "scripts" / "install-offline.sh"
DEFAULT_OUTPUT = ROOT / "dist" / "wheelhouse"
# The files setuptools reads besides the packages (README.md is the long description).
BUILD_FILES = ("setup.cfg", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
# setup.cfg leaves these out of the wheel.
NOT_SHIPPED = {"tests", "benchmarks", "scripts"}
# What marks a folder as one this script made, so that replacing it never deletes anything else.
MARKER = "install-offline.sh"


class WheelhouseError(Exception):
    pass


def project_version() -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return parser["metadata"]["version"]


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def run_pip(*arguments: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


def copy_source(destination: Path) -> None:
    """The build files and the top-level packages, without caches, virtualenvs or data."""
    destination.mkdir(parents=True)
    for name in BUILD_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, destination / name)
    for folder in sorted(ROOT.iterdir()):
        if (folder / "__init__.py").is_file() and folder.name not in NOT_SHIPPED:
            shutil.copytree(folder, destination / folder.name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_wheels(destination: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kolibri-like-source-") as scratch:
        source = Path(scratch) / "kolibri-like"
        copy_source(source)
        # pip wheel turns any source-only dependency into a wheel here, so that the offline
        # machine needs no compiler.
        run_pip("wheel", "--quiet", "--progress-bar", "off", "--wheel-dir", str(destination),
                str(source))
    run_pip("download", "--quiet", "--progress-bar", "off", "--no-deps", "--only-binary",
            ":all:", "--dest", str(destination), "pip")
    strays = sorted(path.name for path in destination.iterdir() if path.suffix != ".whl")
    if strays:
        raise WheelhouseError(f"not wheels, cannot be installed offline: {', '.join(strays)}")


def write_checksums(folder: Path) -> None:
    lines = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name != "SHA256SUMS":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


def replace_folder(partial: Path, output: Path) -> None:
    if output.exists():
        if any(output.iterdir()) and not (output / MARKER).exists():
            raise WheelhouseError(f"{output} exists and is not a wheelhouse; not replacing it")
        shutil.rmtree(output)
    os.replace(partial, output)


def pack(folder: Path, archive: Path) -> Path:
    partial = archive.with_name(archive.name + ".partial")
    top = archive.name.removesuffix(".tar.gz")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=top)
    os.replace(partial, archive)
    return archive


def build_wheelhouse(output: Path, *, archive: bool = True) -> tuple[Path, Path | None]:
    """Build the wheelhouse folder (and its archive); returns (folder, archive or None)."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        build_wheels(partial)
        script = partial / MARKER
        shutil.copyfile(INSTALL_SCRIPT, script)
        script.chmod(0o755)
        (partial / "python-version").write_text(python_version() + "\n", encoding="utf-8")
        write_checksums(partial)
        replace_folder(partial, output)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
    packed = None
    if archive:
        packed = pack(output, output.parent / f"kolibri-like-{project_version()}-wheelhouse.tar.gz")
    return output, packed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.wheelhouse",
                                     description="Build an offline installation folder.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-archive", action="store_true", help="the folder only")
    arguments = parser.parse_args(argv)
    try:
        folder, packed = build_wheelhouse(arguments.output, archive=not arguments.no_archive)
    except (WheelhouseError, subprocess.CalledProcessError) as error:
        print(f"wheelhouse: {error}", file=sys.stderr)
        return 1
    wheels = sorted(folder.glob("*.whl"))
    size = sum(path.stat().st_size for path in wheels)
    print(f"{folder}: {len(wheels)} wheels ({size / 1024**2:.0f} MiB) for Python "
          f"{python_version()} on this platform, and install-offline.sh")
    if packed is not None:
        print(f"{packed}: the same in one file")
    print(f"On the machine without internet: tar xzf {packed.name if packed else '...'} "
          f"&& sh kolibri-like-*-wheelhouse/install-offline.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
