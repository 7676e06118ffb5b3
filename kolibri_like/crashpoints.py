"""Named crash points: places where a test makes the process die as a power cut would.

With `KOLIBRI_LIKE_CRASH_AT=<name>` in the environment, the process kills itself with SIGKILL
the first time it reaches `crash_point("<name>")`; with `<name>:N`, the N-th time. No cleanup
runs (no `finally`, no atexit, no flush): what is left is what `recover` must put right.
Without the variable a crash point costs one dict lookup. Every name is listed in
CRASH_POINTS with what the process has and has not done when it dies there
(tests/kolibri_like/test_crash_points.py runs each one in a real subprocess).

    crash_point("import.database_copied")

    KOLIBRI_LIKE_CRASH_AT=import.file_stored:3 kolibri-like importcontent disk <id> /media/usb
"""

from __future__ import annotations

import os
import signal

ENVIRONMENT_VARIABLE = "KOLIBRI_LIKE_CRASH_AT"

CRASH_POINTS: dict[str, str] = {
    "import.database_copied": "importchannel: the drive's database is copied into the temp "
                              "area and synced, not yet checked or installed.",
    "import.mid_file": "importcontent: some bytes of a content file are read from the drive "
                       "into the store's temp file, not yet hashed whole or renamed.",
    "import.file_stored": "importcontent: a content file is stored and registered (use "
                          "`:N` to die after the N-th file), the import row not yet finished.",
    "import.after_switch": "importchannel: the new version is current (served file renamed, "
                           "registry updated), the command has not reported it.",
    "export.file_copied": "exportcontent: a file is renamed into place on the drive (use `:N` "
                          "to die after the N-th file), the manifest and database not yet "
                          "written.",
    "export.manifest_written": "exportcontent: every file and the manifest are on the drive, "
                               "the database not yet.",
    "export.database_copied": "export: the database's `.partial` on the drive is written, "
                              "synced and read back, not yet renamed into place.",
    "network.database_downloaded": "importchannel network: the peer's database is downloaded "
                                   "whole into the temp area's `.part`, not yet checked or "
                                   "installed.",
    "network.file_downloaded": "importcontent network: a file is downloaded whole into its "
                               "`.part` and synced (use `:N` to die at the N-th file), not yet "
                               "checked or stored.",
    "publish.temp_built": "publish: the channel database is written in the temp area, not yet "
                          "synced.",
    "publish.temp_synced": "publish: the temp channel database is fsynced, not yet installed.",
    "publish.after_switch": "publish: the new version is installed and current, the draft is "
                            "still marked publishing.",
    "version.placed": "install (publish or import): the new file is renamed into versions/, "
                      "its version row not yet written.",
    "version.before_switch": "install (publish or import): the version and its file rows are "
                             "committed, the version not yet made current.",
    "switch.before_rename": "make a version current (install or revert): the swap link beside "
                            "the served file exists, the served file is not yet replaced.",
    "switch.after_rename": "make a version current (install or revert): the served file is "
                           "replaced, the registry still names the old version.",
    "encode.outputs_stored": "encode: the first output is in the store, the others and the "
                             "draft rows not yet.",
    "encode.before_rows": "encode: every output is in the store, the draft rows not yet marked "
                          "Finished.",
    "upload.bytes_written": "upload (tus PATCH): the chunk is written and fsynced, `received` "
                            "not yet raised.",
    "upload.stored": "upload: the whole file is stored by put_file, the draft file and upload "
                     "record rows not yet updated.",
}

_reached: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here by SIGKILL if KOLIBRI_LIKE_CRASH_AT names this point (see the module doc)."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE)
    if not wanted or not wanted.startswith(name):
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= (int(count) if count else 1):
        os.kill(os.getpid(), signal.SIGKILL)
