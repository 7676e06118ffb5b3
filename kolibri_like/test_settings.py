"""Test overlay: the real settings, with a throwaway home and the task queue run inline.

Tests that need a real consumer start one in a subprocess with its own home (tests/servers.py).
"""

from __future__ import annotations

import os
import tempfile

if "KOLIBRI_LIKE_HOME" not in os.environ:
    os.environ["KOLIBRI_LIKE_HOME"] = tempfile.mkdtemp(prefix="kolibri-like-test-")
os.environ.setdefault("ZEROCONF_ENABLED", "0")

from kolibri_like.settings import *  # noqa: E402,F401,F403
from kolibri_like.settings import HUEY  # noqa: E402

HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
