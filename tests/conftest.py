"""Shared fixtures: a throwaway content folder per test, channel databases built for real.

Personas: `admin_user`, `author_user`, `learner_user`, `outsider_user` (another learner).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from django.db import connections

from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import testcases
from django.utils import translation

from channels.builder import BuildResult, ChannelSpec, FileSpec, NodeSpec, build_channel
from routers.db_router import is_channel_alias
from routers.ids import is_valid_channel_id
from routers.registry import unregister_alias

_django_connection_guard = testcases.SimpleTestCase.ensure_connection_patch_method.__func__


def _guard_allowing_channel_aliases(cls):
    """Django's tests refuse connections to aliases a test did not declare; channel aliases are
    registered at run time by design (one per channel file), so they are always allowed."""
    real_ensure_connection = BaseDatabaseWrapper.ensure_connection
    guarded = _django_connection_guard(cls)

    def ensure_connection(self, *args, **kwargs):
        if is_channel_alias(self.alias):
            return real_ensure_connection(self, *args, **kwargs)
        return guarded(self, *args, **kwargs)

    return ensure_connection


testcases.SimpleTestCase.ensure_connection_patch_method = classmethod(
    _guard_allowing_channel_aliases)


def pytest_collection_modifyitems(config, items):
    # Tests that touch the default database or the queue run again on PostgreSQL and Redis.
    for item in items:
        if item.get_closest_marker("django_db") is not None:
            item.add_marker(pytest.mark.services)


@pytest.fixture(autouse=True)
def default_language():
    """A request made through a test client leaves its language active in the thread: a later
    test that calls the services directly would read another language's sentences."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def content_dir(tmp_path: Path, settings) -> Path:
    """Every test gets its own CONTENT_DIR: never the real data folder."""
    root = tmp_path / "content"
    settings.CONTENT_DIR = root
    settings.CONTENT_STORAGE_DIR = root / "storage"
    settings.CONTENT_DATABASE_DIR = root / "databases"
    settings.CONTENT_TEMP_DIR = root / "tmp"
    for folder in ("storage", "databases", "tmp"):
        (root / folder).mkdir(parents=True)
    yield root
    for alias in list(connections.settings):
        if is_valid_channel_id(alias) or alias.startswith("build-"):
            unregister_alias(alias)
    from channels.selectors import forget_channel_state
    from content.availability import forget_availability

    forget_channel_state()
    forget_availability()


def small_tree(label: str, topics: int = 2, leaves: int = 3) -> NodeSpec:
    """A root with `topics` topics of `leaves` documents each; every leaf has its own PDF bytes."""
    root = NodeSpec(title=f"{label} root", kind="topic")
    for topic_index in range(topics):
        topic = NodeSpec(title=f"{label} topic {topic_index}", kind="topic",
                         description=f"About {label} {topic_index}")
        for leaf_index in range(leaves):
            body = f"%PDF-1.4 {label} {topic_index} {leaf_index}\n".encode()
            topic.children.append(NodeSpec(
                title=f"{label} leaf {topic_index}.{leaf_index}", kind="document",
                files=[FileSpec(preset="document", extension="pdf", source=body)]))
        root.children.append(topic)
    return root


@pytest.fixture
def make_channel(db) -> Callable[..., BuildResult]:
    """Build and install a channel database for real: `make_channel("maths")`."""

    def make(label: str = "channel", *, channel_id: str | None = None, topics: int = 2,
             leaves: int = 3, root: NodeSpec | None = None, **spec_fields) -> BuildResult:
        spec = ChannelSpec(name=label.title(), id=channel_id,
                           root=root or small_tree(label, topics, leaves), **spec_fields)
        return build_channel(spec)

    return make


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass", role="admin")


@pytest.fixture
def author_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass", role="author")


@pytest.fixture
def learner_user(django_user_model):
    return django_user_model.objects.create_user("charlie", password="charlie-pass",
                                                 role="learner")


@pytest.fixture
def outsider_user(django_user_model):
    return django_user_model.objects.create_user("dana", password="dana-pass", role="learner")
