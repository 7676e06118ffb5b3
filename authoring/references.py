"""What drafts keep alive in the store (a storage reference source, DESIGN.md).

A live draft (open or being published) keeps every file it holds: uploaded bytes, a video's
encoded outputs, test-set images. A published draft keeps only what the course still waits
for: the source of a video whose encode has not ended (the course gets a new version when it
does). Once a video is encoded its uploaded original is no longer needed by anyone; the
collector frees it after the grace period, which matters on a small box with a few gigabytes.
Files of published versions are kept by the channels source.
"""

from __future__ import annotations

from authoring.models import Draft, DraftFile


class DraftReferenceSource:
    name = "drafts"

    def referenced_checksums(self) -> set[str]:
        found: set[str] = set()
        live = DraftFile.objects.filter(draft__state__in=(Draft.State.OPEN,
                                                          Draft.State.PUBLISHING))
        for checksum, outputs in live.values_list("checksum", "outputs").iterator(2000):
            found.update(_checksums(checksum, outputs))
        waiting = DraftFile.objects.filter(draft__state=Draft.State.PUBLISHED,
                                           draft__awaiting_encodes=True,
                                           state=DraftFile.State.PROCESSING)
        for checksum in waiting.values_list("checksum", flat=True).iterator(2000):
            if checksum:
                found.add(checksum)
        return found

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]:
        described: dict[str, list[str]] = {}
        rows = DraftFile.objects.filter(draft__state__in=(Draft.State.OPEN,
                                                          Draft.State.PUBLISHING))
        for item in rows.select_related("draft"):
            for checksum in _checksums(item.checksum, item.outputs) & checksums:
                described.setdefault(checksum, []).append(
                    f"draft {item.draft_id} ({item.draft.name or 'untitled'}), file {item.name}")
        return described


def _checksums(checksum: str, outputs: object) -> set[str]:
    found = {checksum} if checksum else set()
    if isinstance(outputs, dict):
        found.update(value for key, value in outputs.items()
                     if key != "duration" and isinstance(value, str) and value)
    return found
