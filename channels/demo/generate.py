"""Generate a demo channel: media with ffmpeg, a course-shaped tree, a channel database.

1. Make the seed's few media files in a work folder in the temp area and store them once.
   A run never downloads anything; ffmpeg makes the clips from its test sources.
2. Build the tree (`tree.build_demo_spec`): N nodes, every node with its own thumbnail.
3. `build_channel` stores the thumbnails and writes and installs the channel database.
4. Remove the work folder, also when interrupted: a re-run starts again from step 1, and the
   files already stored are not written twice (the store dedupes by MD5).

    result = generate_demo_channel(nodes=200, seed=1)
    result.channel_id, result.node_count, result.seconds
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from channels.builder import build_channel
from channels.demo.media import generate_demo_media, media_cache_folder
from channels.demo.tree import build_demo_spec, validate_node_count
from channels.demo.vocabulary import subject_for_seed
from storage.paths import temp_root

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoChannelResult:
    channel_id: str
    name: str
    node_count: int
    file_count: int
    total_size: int
    seconds: float


def generate_demo_channel(*, nodes: int, seed: int, name: str | None = None,
                          progress: ProgressCallback | None = None, owner: Any = None,
                          media_cache: Path | None = None) -> DemoChannelResult:
    """Generate, store and install the demo channel of (seed, nodes); see the module docstring.

    `media_cache`: a folder to keep the generated media in and reuse on the next call (tests
    share one); by default they go to a work folder in the temp area, removed at the end.
    """
    validate_node_count(nodes)
    started = time.monotonic()
    subject = subject_for_seed(seed)
    if media_cache is not None:
        media = generate_demo_media(seed=seed, subject=subject,
                                    work_dir=media_cache_folder(media_cache, seed),
                                    progress=progress)
    else:
        temp_root().mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=f"demo-media-{seed}-", dir=temp_root()))
        try:
            media = generate_demo_media(seed=seed, subject=subject, work_dir=work_dir,
                                        progress=progress)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
    spec = build_demo_spec(seed=seed, nodes=nodes, media=media, name=name, progress=progress)
    result = build_channel(spec, owner=owner, progress=progress)
    return DemoChannelResult(channel_id=result.channel_id, name=spec.name,
                             node_count=result.node_count, file_count=result.file_count,
                             total_size=result.total_size,
                             seconds=time.monotonic() - started)
