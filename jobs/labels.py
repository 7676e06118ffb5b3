"""What a person reads for a job's machine words: its kind and stage, in the active language.

The task API keeps `kind`, `state` and `stage` as the words scripts compare ("import",
"running", "files"); the serializer adds `kind_label`, `state_label` (the model's choice label)
and `stage_label` next to them. A stage this table does not know is shown as it is.

    with translation.override("fr"):
        stage_label("files")   # "fichiers"
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from jobs.errors import UnknownJobKindError
from jobs.kinds import get_kind

# Every stage name a service reports (channels.transfer, storage.verify, authoring's file jobs,
# jobs.services) and the ones the job row is given on its way.
STAGE_LABELS = {
    "starting": gettext_lazy("starting"),
    "waiting to be retried": gettext_lazy("waiting to be retried"),
    "cancelled": gettext_lazy("cancelled"),
    "database": gettext_lazy("database"),
    "files": gettext_lazy("files"),
    "bytes": gettext_lazy("bytes"),
    "nodes": gettext_lazy("nodes"),
    "verify": gettext_lazy("checking files"),
    "thumbnails": gettext_lazy("thumbnails"),
    "media": gettext_lazy("media"),
    "encode": gettext_lazy("encoding"),
    "convert": gettext_lazy("converting"),
    "saving": gettext_lazy("saving"),
    "scanning the databases folder": gettext_lazy("scanning the databases folder"),
}


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


def kind_label(kind: str) -> str:
    """The kind's title ("Import a channel"), or its name for a kind no longer registered."""
    try:
        return str(get_kind(kind).title)
    except UnknownJobKindError:
        return kind
