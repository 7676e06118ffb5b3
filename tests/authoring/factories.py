"""Draft files made directly in the store, for tests of what happens after an upload.

    item = stored_draft_file(draft, b"%PDF-1.4 ...", "lesson.pdf", file_type="document")
"""

from __future__ import annotations

from pathlib import Path

from authoring.models import Draft, DraftFile
from storage.files import put_file

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]"
       b"/Count 1>>endobj 3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
# 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d1f6d00000000049454e44ae426082")


def stored_draft_file(draft: Draft, data: bytes | Path, name: str, *, file_type: str,
                      state: str = DraftFile.State.FINISHED, usage: str = "resource",
                      topic: str = "", description: str = "",
                      outputs: dict[str, object] | None = None) -> DraftFile:
    extension = name.rsplit(".", 1)[-1]
    stored = put_file(data, extension)
    position = draft.files.count()
    return DraftFile.objects.create(
        draft=draft, name=name, description=description, topic=topic, position=position,
        usage=usage, file_type=file_type, extension=extension, size=stored.size,
        received=stored.size, checksum=stored.checksum, state=state, outputs=outputs or {})
