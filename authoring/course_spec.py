"""A draft as a channel tree: what publishing hands to the channel builder.

    spec, waiting = course_spec(draft)

The root carries the course; files of one topic go under that topic's node (topics in the order
the author listed them, then any other topic in the order its first file appears); files
without a topic and test sets without a topic follow at the root. Ids never depend on the
order or on the version: the root and topic ids derive from the channel id, a file's node id
was chosen at upload (and copied into later drafts), a test set's node id is its own id. A
`content_id` derives from what the item is (the uploaded bytes, the test set's questions), so
an item that did not change keeps it in every version: learners keep their progress.

Videos still encoding are published as nodes without files (not available yet) and listed in
`waiting`; authoring.publish gives the course a new version when their encodes end. Files in
Error are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authoring.models import Draft, DraftFile
from channels.builder import ChannelSpec, FileSpec, NodeSpec, stable_id
from storage.models import StoredFile
from storage.paths import storage_path

# What each uploaded type becomes: (node kind, preset of the essential file).
DOCUMENT_PRESETS = {"pdf": "document", "epub": "epub"}
VIDEO_OUTPUTS = (("mp4", "high_res_video"), ("webm", "low_res_video"), ("ogv", "ogg_video"))
SLIDESHOW_IMAGE_EXTENSIONS = ("png", "jpg", "jpeg")


class CourseSpecError(Exception):
    exit_code = 4
    http_status = 400


@dataclass
class _Sizes:
    known: dict[str, int]

    def of(self, checksum: str, extension: str) -> int:
        if checksum not in self.known:
            self.known[checksum] = storage_path(checksum, extension).stat().st_size
        return self.known[checksum]


def course_spec(draft: Draft, files: list[DraftFile] | None = None
                ) -> tuple[ChannelSpec, list[str]]:
    """The channel spec of the draft, and the nodes waiting for encodes; `files`: the draft's
    files if the caller has loaded them already (a publish checks them first)."""
    files = [item for item in (draft.files.all() if files is None else files)
             if item.state != DraftFile.State.ERROR]
    checksums = {value for item in files for value in item.stored_checksums()}
    sizes = _Sizes(dict(StoredFile.objects.filter(checksum__in=checksums)
                        .values_list("checksum", "size")))
    author = _author_name(draft)
    root = NodeSpec(title=draft.name, kind="topic", id=stable_id(draft.channel_id, "root"),
                    description=draft.description, author=author,
                    options={"kolibri_like_course": {
                        "require_videos": draft.require_videos,
                        "version_label": draft.version_label,
                        "topics": list(draft.topics)}})
    root.content_id = root.id
    topics: dict[str, NodeSpec] = {}

    def parent_for(topic: str) -> NodeSpec:
        if not topic:
            return root
        if topic not in topics:
            node = NodeSpec(title=topic, kind="topic", author=author,
                            id=stable_id(draft.channel_id, "topic", topic))
            node.content_id = node.id
            topics[topic] = node
        return topics[topic]

    for topic in draft.topics:
        if any(item.topic == topic for item in files) or any(
                test_set.get("topic") == topic for test_set in draft.test_sets):
            parent_for(topic)
    waiting: list[str] = []
    for item in files:
        if item.usage != DraftFile.Usage.RESOURCE:
            continue
        node = resource_node(item, sizes, author)
        if item.file_type == "video" and not node.files:
            waiting.append(item.node_id)
        elif item.file_type == "office" and item.state == DraftFile.State.PROCESSING:
            # Published as a download now; the PDF copy joins in a new version when its
            # conversion ends (authoring.conversion).
            waiting.append(item.node_id)
        parent_for(item.topic).children.append(node)
    for test_set in draft.test_sets:
        parent_for(str(test_set.get("topic") or "")).children.append(
            exercise_node(draft, test_set, author))
    # Topics first, in order, then what belongs to no topic.
    root.children = [*topics.values(), *root.children]
    spec = ChannelSpec(name=draft.name, root=root, id=draft.channel_id,
                       description=draft.description, author=author,
                       version_label=draft.version_label)
    return spec, waiting


def _author_name(draft: Draft) -> str:
    owner = draft.owner
    full = owner.get_full_name() if hasattr(owner, "get_full_name") else ""
    return (full or owner.get_username())[:200]


def _title(item: DraftFile) -> str:
    stem = Path(item.name).stem.replace("_", " ").strip()
    return (stem or item.name)[:200]


def resource_node(item: DraftFile, sizes: _Sizes, author: str) -> NodeSpec:
    node = NodeSpec(title=_title(item), id=item.node_id, description=item.description,
                    author=author, content_id=stable_id("upload", item.checksum or item.node_id))
    if item.file_type == "video":
        node.kind = "video"
        if item.state == DraftFile.State.FINISHED and item.outputs:
            for extension, preset in VIDEO_OUTPUTS:
                node.files.append(_stored(preset, item.outputs[extension], extension, sizes))
            if item.outputs.get("png"):
                node.files.append(_stored("video_thumbnail", item.outputs["png"], "png", sizes))
            duration = item.outputs.get("duration")
            node.duration = int(round(duration)) if isinstance(duration, (int, float)) else None
        return node
    kind, preset, extension = _kind_and_preset(item)
    node.kind = kind
    if item.file_type == "office" and item.state == DraftFile.State.FINISHED and \
            item.outputs.get("pdf"):
        # The PDF copy plays in the document viewer (preset "document" comes first among the
        # essential files); the original below stays listed for download.
        node.files.append(_stored("document", item.outputs["pdf"], "pdf", sizes))
    node.files.append(_stored(preset, item.checksum, extension, sizes))
    if kind == "slideshow":
        manifest = {"slideshow_data": [{"checksum": item.checksum, "extension": extension,
                                        "sort_order": 0, "caption": item.description}]}
        node.files.append(FileSpec("slideshow_manifest", "json",
                                   json.dumps(manifest, sort_keys=True).encode()))
    return node


def _kind_and_preset(item: DraftFile) -> tuple[str, str, str]:
    extension = item.extension
    if item.file_type == "audio":
        return "audio", "audio", extension
    if item.file_type == "document" and extension in DOCUMENT_PRESETS:
        return "document", DOCUMENT_PRESETS[extension], extension
    if item.file_type == "office":
        return "document", "office_document", extension
    if item.file_type == "flash":
        return "html5", "flash", extension
    if item.file_type == "html5":
        return "html5", "html5_zip", extension
    if item.file_type == "image" and extension in SLIDESHOW_IMAGE_EXTENSIONS:
        return "slideshow", "slideshow_image", extension
    raise CourseSpecError(f"{item.name}: a {item.file_type} file of type .{extension} cannot be "
                          "published as a course item; remove it or convert it (PNG or JPEG "
                          "for images)")


def _stored(preset: str, checksum: str, extension: str, sizes: _Sizes) -> FileSpec:
    return FileSpec(preset, extension, storage_path(checksum, extension), checksum=checksum,
                    size=sizes.of(checksum, extension))


def exercise_node(draft: Draft, test_set: dict[str, Any], author: str) -> NodeSpec:
    from authoring.testsets import build_exercise_file, exercise_options

    images = {str(item.id): item for item in draft.files.filter(file_type="image")}

    def load_image(file_id: str) -> tuple[bytes, str]:
        item = images.get(str(file_id))
        if item is None or not item.checksum:
            raise CourseSpecError(f"test set {test_set.get('title')!r} uses an image that is "
                                  "not in the draft any more; choose it again")
        return storage_path(item.checksum, item.extension).read_bytes(), item.extension

    data = build_exercise_file(test_set, image_loader=load_image)
    fingerprint = json.dumps({key: test_set.get(key) for key in sorted(test_set) if key != "id"},
                             sort_keys=True)
    return NodeSpec(title=str(test_set.get("title") or "Test"), kind="exercise",
                    id=str(test_set["id"]), author=author,
                    content_id=stable_id("test set", fingerprint),
                    options=exercise_options(test_set),
                    files=[FileSpec("exercise", "perseus", data)])
