"""ContentDBRouter decisions: content models go to the active channel, nothing else ever does."""

from __future__ import annotations

from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import OperationalError, router
from hypothesis import given
from hypothesis import strategies as st

from channels.models import Channel
from content.models import ContentNode, ContentTag, File, LocalFile
from routers.context import (
    reset_active_content_database,
    set_active_content_database,
    using_content_database,
)
from routers.db_router import ContentDBRouter, is_content_model
from routers.errors import NoActiveContentDatabaseError
from storage.models import StoredFile

pytestmark = pytest.mark.django_db

channel_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
content_model_list = [model for model in apps.get_app_config("content").get_models(
    include_auto_created=True)]
default_model_list = [model for model in apps.get_models(include_auto_created=True)
                      if model._meta.app_label != "content"]


def test_a_content_query_with_no_active_database_fails_with_the_named_error():
    with pytest.raises(NoActiveContentDatabaseError, match="using_content_database"):
        ContentNode.objects.count()
    with pytest.raises(NoActiveContentDatabaseError):
        list(File.objects.filter(preset="document"))


def test_the_error_is_raised_again_after_a_block_ends(make_channel):
    channel = make_channel("maths")
    with using_content_database(channel.channel_id):
        assert ContentNode.objects.count() == channel.node_count
    with pytest.raises(NoActiveContentDatabaseError):
        ContentNode.objects.count()


def test_content_queries_go_to_the_active_channel(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    with using_content_database(maths.channel_id):
        assert ContentNode.objects.all().db == maths.channel_id
        assert ContentNode.objects.get(parent=None).title == "maths root"
        with using_content_database(science.channel_id):
            assert ContentNode.objects.get(parent=None).title == "science root"


def test_default_database_models_never_go_to_a_channel_database(make_channel, learner_user):
    maths = make_channel("maths")
    user_model = get_user_model()
    with using_content_database(maths.channel_id):
        for model in (user_model, Channel, StoredFile):
            assert router.db_for_read(model) == "default"
            assert router.db_for_write(model) == "default"
            assert model.objects.all().db == "default"
        # Real reads, with a channel active: they answer from the default database.
        assert user_model.objects.filter(username="charlie").exists()
        assert Channel.objects.filter(id=maths.channel_id).exists()
        assert StoredFile.objects.count() == maths.file_count


def test_an_instance_hint_wins_over_the_active_database(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    with using_content_database(maths.channel_id):
        node = ContentNode.objects.get(parent=None)
    with using_content_database(science.channel_id):
        assert router.db_for_read(ContentNode, instance=node) == maths.channel_id
        # Django's related managers pass the instance: a maths node's children come from the
        # maths file even with science active.
        assert [child.title for child in node.children.order_by("lft")] == ["maths topic 0",
                                                                            "maths topic 1"]
        assert node.parent is None and node.files.count() == 0


def test_mptt_tree_methods_follow_the_instance_not_the_active_database(make_channel):
    """django-mptt queries its tree manager without an instance hint; ContentNode pins its tree
    methods to the database the node was read from."""
    maths, science = make_channel("maths"), make_channel("science")
    with using_content_database(maths.channel_id):
        node = ContentNode.objects.get(parent=None)
        leaf = ContentNode.objects.filter(kind="document").first()
    with using_content_database(science.channel_id):
        assert [child.title for child in node.get_children()] == ["maths topic 0",
                                                                  "maths topic 1"]
        assert len(node.get_descendants()) == maths.node_count - 1
        assert [ancestor.title for ancestor in leaf.get_ancestors()] == ["maths root",
                                                                         "maths topic 0"]
        assert leaf.get_siblings(include_self=True).count() == 3
        assert node.get_family().count() == maths.node_count


def test_writes_to_a_channel_database_fail(make_channel):
    maths = make_channel("maths")
    with using_content_database(maths.channel_id):
        with pytest.raises(OperationalError, match="readonly"):
            ContentNode.objects.filter(parent=None).update(title="defaced")
        with pytest.raises(OperationalError, match="readonly"):
            ContentTag.objects.create(id="c" * 32, tag_name="spam")
        assert ContentNode.objects.get(parent=None).title == "maths root"


def test_relations_between_channels_are_refused(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    with using_content_database(maths.channel_id):
        maths_root = ContentNode.objects.get(parent=None)
    with using_content_database(science.channel_id):
        science_root = ContentNode.objects.get(parent=None)
    channel_router = ContentDBRouter()
    assert channel_router.allow_relation(maths_root, science_root) is False
    assert channel_router.allow_relation(maths_root, maths_root) is True
    assert channel_router.allow_relation(maths_root, Channel(id=maths.channel_id)) is False
    assert channel_router.allow_relation(Channel(), Channel()) is None


@pytest.mark.parametrize("db, app_label, allowed", [
    ("default", "content", False),
    ("default", "accounts", True),
    ("default", "channels", True),
    ("default", "storage", True),
    ("default", "auth", True),
    ("a" * 32, "content", True),
    ("a" * 32, "accounts", False),
    ("a" * 32, "channels", False),
    ("a" * 32, "auth", False),
    ("build-" + "a" * 32 + "-12345678", "content", True),
    ("build-" + "a" * 32 + "-12345678", "storage", False),
])
def test_allow_migrate_keeps_content_tables_and_default_tables_apart(db, app_label, allowed):
    assert ContentDBRouter().allow_migrate(db, app_label) is allowed


def test_every_content_model_is_recognised_and_nothing_else():
    assert content_model_list and default_model_list
    assert all(is_content_model(model) for model in content_model_list)
    assert not any(is_content_model(model) for model in default_model_list)
    # The automatic link tables of `related` and `has_prerequisite` follow their owner.
    link_tables = {model._meta.db_table for model in content_model_list
                   if model._meta.auto_created}
    assert {"content_contentnode_related", "content_contentnode_has_prerequisite"} <= link_tables


@given(alias=channel_ids, model_index=st.integers(min_value=0, max_value=10_000),
       write=st.booleans())
def test_router_decisions_hold_for_any_channel_and_model(alias, model_index, write):
    """Content models go to the active alias; other models get None (the default database)."""
    channel_router = ContentDBRouter()
    models = content_model_list + default_model_list
    model = models[model_index % len(models)]
    decide = channel_router.db_for_write if write else channel_router.db_for_read
    token = set_active_content_database(alias)
    try:
        with mock.patch("routers.db_router.is_registered", return_value=True):
            decision = decide(model)
    finally:
        reset_active_content_database(token)
    if is_content_model(model):
        assert decision == alias
    else:
        assert decision is None
    assert channel_router.allow_migrate(alias, model._meta.app_label) is is_content_model(model)
    assert channel_router.allow_migrate("default", model._meta.app_label) is (
        not is_content_model(model))


@given(model_index=st.integers(min_value=0, max_value=10_000))
def test_with_nothing_active_content_models_fail_and_others_pass(model_index):
    channel_router = ContentDBRouter()
    models = content_model_list + default_model_list
    model = models[model_index % len(models)]
    if is_content_model(model):
        with pytest.raises(NoActiveContentDatabaseError):
            channel_router.db_for_read(model)
    else:
        assert channel_router.db_for_read(model) is None


def test_a_local_file_reads_its_own_channel(make_channel):
    maths = make_channel("maths", topics=1, leaves=1)
    with using_content_database(maths.channel_id):
        local_file = LocalFile.objects.get()
        assert local_file.get_url().startswith("/content/storage/")
