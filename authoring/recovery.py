"""Start-up recovery of drafts (part of `manage.py recover`): a publish cut off by a crash.

A draft left "publishing" either made its version (killed after the install, before the
draft was marked) or did not. The version's recorded source says which: the draft becomes
published with that version, or open again so the author can publish it (once). A draft whose
course lock is held is being published right now and is left alone.

    recover_drafts(report)      # report: channels.recovery.RecoveryReport
"""

from __future__ import annotations

from typing import Any

from authoring.errors import PublishConflictError
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.publish import course_update_lock, version_source


def recover_drafts(report: Any) -> None:
    from channels.models import ChannelVersion

    for draft in Draft.objects.filter(state=Draft.State.PUBLISHING):
        try:
            with course_update_lock(draft):
                made = (ChannelVersion.objects.filter(channel_id=draft.channel_id,
                                                      source=version_source(draft.id))
                        .order_by("-number").first())
                if made is None:
                    Draft.objects.filter(id=draft.id, state=Draft.State.PUBLISHING).update(
                        state=Draft.State.OPEN)
                    report.repairs.append(f"draft {draft.id}: its publish was cut off before "
                                          "it made a version; open again, publish it again")
                    continue
                waiting = list(draft.files.filter(
                    file_type__in=("video", "office"), usage=DraftFile.Usage.RESOURCE,
                    state=DraftFile.State.PROCESSING).values_list("node_id", flat=True))
                Draft.objects.filter(id=draft.id, state=Draft.State.PUBLISHING).update(
                    state=Draft.State.PUBLISHED, published_version=made.number,
                    published_at=made.created_at, awaiting_encodes=bool(waiting),
                    waiting_nodes=waiting)
                UploadRecord.objects.filter(draft_file__draft_id=draft.id).delete()
                report.repairs.append(f"draft {draft.id}: published as version {made.number} "
                                      "before the crash; marked published")
        except PublishConflictError:
            report.left.append(f"draft {draft.id}: being published right now; not checked")
