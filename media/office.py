"""The one adapter for LibreOffice (`soffice`): find it, convert an office document to PDF.

Why one module: every conversion gets the same guarantees. An argument list and never a shell;
no stdin; a private LibreOffice profile per run (`-env:UserInstallation`), because two
conversions sharing a profile block each other (the second one silently does nothing) and the
service user may have no writable home; the resource limits of media.launch and a wall-clock
timeout that kills the whole process group (`soffice` is a script that starts `oosplash`,
which starts `soffice.bin`: killing only the first would leave the real worker running); and a
named error carrying LibreOffice's last output lines, which say why (it exits 0 even when it
could not load the file, so success means "the PDF exists", not "the exit status is 0"). A
worker killed outright (SIGKILL) leaves its soffice to its resource limits (processor time
stops it) or, under systemd, to the unit's cgroup, which is killed whole.

No network: an uploaded document may link remote images or templates that LibreOffice would
fetch while loading. The run is put in an empty network namespace (`unshare --net`) when the
kernel allows it, and the private profile points LibreOffice's own HTTP/HTTPS/FTP proxy at a
closed local port and blocks untrusted links and macros, which holds where namespaces do not.

    if soffice_available():
        pdf = convert_to_pdf(Path("lesson.docx"), Path("scratch/"), timeout=300)

The binary is `settings.SOFFICE_BINARY` if set (a missing path is an error, not a silent
fallback), else `soffice` or `libreoffice` on PATH. Debian: `apt install
libreoffice-writer-nogui` (text documents), plus `libreoffice-impress-nogui` for slides.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

from django.conf import settings

from media.launch import LimitedProcess, configured_limits, limit_breach

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
OUTPUT_TAIL_LINES = 8
# What LibreOffice prints that is noise, not a reason (a JRE it does not need for PDF).
_NOISE = ("failed to launch javaldx", "java may not function correctly")
# A port nothing listens on: LibreOffice's fetches through this "proxy" fail at once.
DEAD_PROXY_HOST = "127.0.0.1"
DEAD_PROXY_PORT = 9
ISOLATE_NETWORK = ("unshare", "--net", "--map-root-user")
INSTALL_HINT = ("install LibreOffice (on Debian or Ubuntu: apt install "
                "libreoffice-writer-nogui libreoffice-impress-nogui) or set SOFFICE_BINARY")


class OfficeError(Exception):
    """LibreOffice could not convert the document; the message carries its reason. A document
    it cannot open is bad input (INTERFACE.md exit code 4)."""

    exit_code = 4

    def __init__(self, message: str, *, output_tail: str = "") -> None:
        detail = f": {output_tail}" if output_tail else ""
        super().__init__(f"{message}{detail}")
        self.output_tail = output_tail


class OfficeTimeoutError(OfficeError):
    """LibreOffice ran longer than its wall-clock limit; its whole process group was killed."""


class OfficeResourceError(OfficeError):
    """A resource limit (memory, processor time, file size; media.launch) stopped LibreOffice."""


class OfficeNotFoundError(OfficeError):
    """No usable soffice: a set-up problem the message says how to fix (bad usage, 2)."""

    exit_code = 2


def soffice_binary() -> str:
    """The soffice to run; see the module docstring for the order it is looked for in."""
    configured = str(getattr(settings, "SOFFICE_BINARY", "") or "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise OfficeNotFoundError(
                f"SOFFICE_BINARY is set to {configured}, which is not an executable file; fix "
                "the setting or unset it to use soffice from PATH")
        return str(path)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise OfficeNotFoundError(f"LibreOffice (soffice) is not installed: {INSTALL_HINT}")


def soffice_available() -> bool:
    """True when documents can be converted; a misconfigured SOFFICE_BINARY is logged (the
    uploads then simply stay downloads, as without LibreOffice)."""
    try:
        soffice_binary()
    except OfficeNotFoundError as error:
        if str(getattr(settings, "SOFFICE_BINARY", "") or "").strip():
            logger.warning("%s", error)
        return False
    return True


@functools.lru_cache(maxsize=1)
def network_isolation() -> tuple[str, ...]:
    """The command prefix that runs soffice without any network, or () where the kernel does
    not allow unprivileged network namespaces (then the profile's dead proxy is the guard)."""
    unshare = shutil.which(ISOLATE_NETWORK[0])
    if unshare is None:
        return ()
    try:
        probe = subprocess.run([unshare, *ISOLATE_NETWORK[1:], "true"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, *ISOLATE_NETWORK[1:]) if probe.returncode == 0 else ()


def profile_settings() -> str:
    """registrymodifications.xcu of the private profile: no network, no macros, no links."""
    items = [
        ("org.openoffice.Inet/Settings", "ooInetProxyType", "int", "1"),
        ("org.openoffice.Inet/Settings", "ooInetHTTPProxyName", "string", DEAD_PROXY_HOST),
        ("org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", "int", str(DEAD_PROXY_PORT)),
        ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", "string", DEAD_PROXY_HOST),
        ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", "int", str(DEAD_PROXY_PORT)),
        ("org.openoffice.Inet/Settings", "ooInetFTPProxyName", "string", DEAD_PROXY_HOST),
        ("org.openoffice.Inet/Settings", "ooInetFTPProxyPort", "int", str(DEAD_PROXY_PORT)),
        ("org.openoffice.Inet/Settings", "ooInetNoProxy", "string", ""),
        ("org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks",
         "boolean", "true"),
        ("org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "int", "3"),
        ("org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution",
         "boolean", "true"),
        # 0 = never update links (to other files or URLs) when a document loads.
        ("org.openoffice.Office.Writer/Content/Update", "Link", "int", "0"),
        ("org.openoffice.Office.Calc/Content/Update", "Link", "int", "0"),
        ("org.openoffice.Office.Common/Misc", "UseLocking", "boolean", "false"),
    ]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
             'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    for path, name, kind, value in items:
        lines.append(f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse">'
                     f'<value xsi:type="xs:{kind}">{value}</value></prop></item>')
    lines.append("</oor:items>")
    return "\n".join(lines) + "\n"


def build_convert_args(source: Path, outdir: Path, profile: Path) -> list[str]:
    """soffice's arguments (after the binary) to write `outdir/<source stem>.pdf`. Pure: tests
    check it without LibreOffice. Paths are absolute, so a name like `-x.docx` is a file."""
    return ["-env:UserInstallation=" + profile.absolute().as_uri(),
            "--headless", "--invisible", "--nologo", "--nodefault", "--nofirststartwizard",
            "--nolockcheck", "--norestore",
            "--convert-to", "pdf", "--outdir", str(outdir.absolute()), str(source.absolute())]


def prepare_profile(profile: Path) -> None:
    """The private profile's settings, written before LibreOffice's first start in it."""
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(profile_settings(), encoding="utf-8")


def run_soffice(args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
                home: Path | None = None) -> str:
    """Run soffice with `args` in its own process group, under the resource limits of
    media.launch; return its output (stdout and stderr merged). OfficeTimeoutError after
    `timeout` seconds (the group is killed), OfficeResourceError when a limit stopped it,
    OfficeError on a non-zero exit, OfficeNotFoundError without a binary."""
    if isinstance(args, (str, bytes)) or not all(isinstance(arg, str) for arg in args):
        raise TypeError("soffice arguments must be a list of strings, never one shell string")
    command = [*network_isolation(), soffice_binary(), *args]
    # A file, not a pipe: nobody reads a pipe while waiting, and a full one would block soffice.
    with tempfile.TemporaryFile() as output_file:
        try:
            process = LimitedProcess(command, limits=configured_limits(), stdout=output_file,
                                     stderr=subprocess.STDOUT, env=_environment(home))
        except OSError as error:
            raise OfficeNotFoundError(f"cannot run soffice at {command[0]}: {error}") from None
        try:
            outcome = process.wait(time.monotonic() + timeout)
        finally:
            if process.outcome is None:
                process.kill()  # the timeout, Ctrl-C, a cancel: never leave soffice.bin behind
        output_file.seek(0)
        text = output_file.read().decode("utf-8", errors="replace")
    if outcome is None:
        raise OfficeTimeoutError(f"LibreOffice ran longer than {timeout:g} s and was stopped",
                                 output_tail=_tail(text))
    if outcome.returncode != 0:
        breach = limit_breach(outcome, process.limits, text)
        if breach:
            raise OfficeResourceError(f"LibreOffice was stopped: {breach}",
                                      output_tail=_tail(text))
        raise OfficeError(f"LibreOffice failed with exit status {outcome.returncode}",
                          output_tail=_tail(text))
    return text


def convert_to_pdf(source: Path, work: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Convert `source` into a PDF inside `work` (a scratch folder the caller removes) and
    return the PDF's path. OfficeError with LibreOffice's reason if no PDF came out."""
    work.mkdir(parents=True, exist_ok=True)
    outdir = Path(tempfile.mkdtemp(prefix="pdf-", dir=work))
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    prepare_profile(profile)
    output = run_soffice(build_convert_args(source, outdir, profile), timeout=timeout,
                         home=profile)
    pdf = outdir / f"{source.stem}.pdf"
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise OfficeError("LibreOffice could not convert the document",
                          output_tail=_tail(output) or "it wrote no PDF")
    return pdf


def _environment(home: Path | None) -> dict[str, str]:
    """The child's environment: HOME inside the scratch folder (the service user may have
    none), proxies pointing nowhere (libraries below LibreOffice read these)."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.lower().endswith("_proxy")}
    dead = f"http://{DEAD_PROXY_HOST}:{DEAD_PROXY_PORT}"
    environment.update(http_proxy=dead, https_proxy=dead, ftp_proxy=dead, no_proxy="",
                       HTTP_PROXY=dead, HTTPS_PROXY=dead, FTP_PROXY=dead)
    if home is not None:
        environment["HOME"] = str(home)
    return environment


def _tail(output: bytes | str | None) -> str:
    if output is None:
        return ""
    text = output.decode("utf-8", errors="replace") if isinstance(output, bytes) else output
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not any(noise in line for noise in _NOISE)]
    return " | ".join(lines[-OUTPUT_TAIL_LINES:])
