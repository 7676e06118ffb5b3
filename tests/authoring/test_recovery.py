"""`recover` puts right a publish that a crash cut off: published if it made its version,
open again if not; never a second version."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from authoring.course_spec import course_spec
from authoring.models import Draft
from authoring.publish import version_source
from channels.builder import build_channel
from channels.models import ChannelVersion
from tests.authoring.factories import PDF, stored_draft_file

pytestmark = pytest.mark.django_db


def publishing_draft(user) -> Draft:
    draft = Draft.objects.create(owner=user, name="Cut off")
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    Draft.objects.filter(id=draft.id).update(state=Draft.State.PUBLISHING)
    draft.refresh_from_db()
    return draft


def test_a_publish_killed_before_its_version_is_open_again(author_user, capsys):
    draft = publishing_draft(author_user)
    call_command("recover")
    draft.refresh_from_db()
    assert draft.state == Draft.State.OPEN
    assert "publish it again" in capsys.readouterr().out


def test_a_publish_killed_after_its_version_is_marked_published(author_user):
    draft = publishing_draft(author_user)
    spec, _waiting = course_spec(draft)
    build_channel(spec, owner=author_user, source_label=version_source(draft.id))
    call_command("recover")
    draft.refresh_from_db()
    assert draft.state == Draft.State.PUBLISHED and draft.published_version == 1
    assert ChannelVersion.objects.filter(channel_id=draft.channel_id).count() == 1
