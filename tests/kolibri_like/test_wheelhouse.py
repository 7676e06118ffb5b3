"""`make wheelhouse` and `install-offline.sh`: kolibri-like installed where pip reaches no index.

The wheelhouse is built once per test session (about 20 s here); installing from it into a fresh
virtualenv takes about 25 s more. Deselect with `-k "not wheelhouse"` when in a hurry.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_SECONDS = 300
INSTALL_TIMEOUT_SECONDS = 300


def clean_environment(**extra: str) -> dict[str, str]:
    """This shell's environment without what would let the checkout leak into the new venv."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")}
    environment.update(extra)
    return environment


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> tuple[Path, Path]:
    output = tmp_path_factory.mktemp("wheelhouse-build") / "wheelhouse"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "scripts.wheelhouse", "--output", str(output)],
                            cwd=ROOT, capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"wheelhouse built in {time.monotonic() - started:.0f} s")
    archives = list(output.parent.glob("kolibri-like-*-wheelhouse.tar.gz"))
    assert len(archives) == 1, result.stdout
    return output, archives[0]


def no_network_prefix() -> list[str]:
    """Run in a network namespace of its own (only a loopback that is down) when we may."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
        return [unshare, "--net"]
    print("cannot create a network namespace here: the install runs with the network up, "
          "but with no index and pip's configuration ignored")
    return []


def required_names() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    requirements = parser["options"]["install_requires"].split()
    return {normalize(re.split(r"[\[<>=!~;]", line, maxsplit=1)[0])
            for line in requirements if line and line[0].isalpha()}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def test_the_wheelhouse_holds_a_wheel_for_every_requirement(wheelhouse):
    folder, archive = wheelhouse
    wheels = {normalize(path.name.split("-")[0]) for path in folder.glob("*.whl")}
    assert required_names() | {"kolibri_like", "pip"} <= wheels
    extras = {path.name for path in folder.iterdir() if path.suffix != ".whl"}
    assert extras == {"install-offline.sh", "SHA256SUMS", "python-version"}
    assert (folder / "python-version").read_text().strip() == \
        f"{sys.version_info.major}.{sys.version_info.minor}"

    sums = dict(reversed(line.split("  ")) for line in
                (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {path.name for path in folder.iterdir()} - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest

    with tarfile.open(archive) as tar:
        members = {Path(member.name) for member in tar.getmembers()}
    top = Path(archive.name.removesuffix(".tar.gz"))
    assert members == {top} | {top / path.name for path in folder.iterdir()}


def test_it_installs_from_the_archive_with_no_index_and_runs(wheelhouse, tmp_path: Path):
    _folder, archive = wheelhouse
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "usb", filter="data")
    script = next((tmp_path / "usb").glob("*/install-offline.sh"))
    venv = tmp_path / "venv"
    # An index that answers nothing: had pip asked any index, the install would fail.
    environment = clean_environment(PIP_INDEX_URL="http://192.0.2.1:9/simple",
                                    PIP_EXTRA_INDEX_URL="http://192.0.2.1:9/simple",
                                    PIP_FIND_LINKS=str(tmp_path / "nowhere"))

    started = time.monotonic()
    installed = subprocess.run([*no_network_prefix(), "sh", str(script), str(venv)],
                               env=environment, cwd=tmp_path, capture_output=True, text=True,
                               timeout=INSTALL_TIMEOUT_SECONDS)
    print(f"installed from the wheelhouse in {time.monotonic() - started:.0f} s")
    output = installed.stdout + installed.stderr
    assert installed.returncode == 0, output
    assert "Looking in indexes" not in output
    assert f"{venv}/bin/kolibri-like start" in installed.stdout

    home = tmp_path / "home"
    settings = subprocess.run([str(venv / "bin" / "kolibri-like"), "settings"],
                              env=clean_environment(KOLIBRI_LIKE_HOME=str(home)), cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert settings.returncode == 0, settings.stderr
    assert re.search(rf"^KOLIBRI_LIKE_HOME\s+{re.escape(str(home))}\s", settings.stdout, re.M)

    # The code that ran is the installed copy, not this checkout, and it is whole: the
    # migrations of every app came with it.
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import kolibri_like; print(kolibri_like.__file__)"],
                           env=clean_environment(), cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    migrated = subprocess.run([str(venv / "bin" / "kolibri-like"), "migrate", "--noinput"],
                              env=clean_environment(KOLIBRI_LIKE_HOME=str(home)), cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


def linked_copy(folder: Path, destination: Path) -> Path:
    """The wheelhouse as symbolic links (cheap), with its small text files copied for editing."""
    destination.mkdir()
    for path in folder.iterdir():
        if path.suffix == ".whl":
            (destination / path.name).symlink_to(path)
        else:
            shutil.copy2(path, destination / path.name)
    return destination


def test_a_damaged_copy_is_refused_before_installing(wheelhouse, tmp_path: Path):
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed, so the script cannot check the copy")
    folder, _archive = wheelhouse
    copy = linked_copy(folder, tmp_path / "copy")
    sums = (copy / "SHA256SUMS").read_text()
    first_digest = sums[:64]
    (copy / "SHA256SUMS").write_text(sums.replace(first_digest, "0" * 64, 1))

    result = subprocess.run(["sh", str(copy / "install-offline.sh"), str(tmp_path / "venv")],
                            env=clean_environment(), capture_output=True, text=True, timeout=60)

    assert result.returncode == 4, result.stdout + result.stderr
    assert "damaged" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_machine_without_the_wheels_python_is_told_which_one(wheelhouse, tmp_path: Path):
    folder, _archive = wheelhouse
    copy = linked_copy(folder, tmp_path / "copy")
    (copy / "python-version").write_text("3.99\n")

    result = subprocess.run(["sh", str(copy / "install-offline.sh"), str(tmp_path / "venv")],
                            env=clean_environment(), capture_output=True, text=True, timeout=60)

    assert result.returncode == 3
    assert "Python 3.99" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_make_wheelhouse_builds_into_dist():
    result = subprocess.run(["make", "-n", "wheelhouse"], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "-m scripts.wheelhouse --output dist/wheelhouse" in result.stdout
