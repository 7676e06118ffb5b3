"""The topic tree of a demo channel: exactly N nodes, shaped and titled like a course.

Everything comes from the seed: the channel id, every node id (derived with `stable_id`), the
shape, titles and which clip each leaf plays. The same (seed, N) gives the same tree; another
seed gives another channel id. Only the media checksums come from outside (`DemoMedia`).

Shape, built breadth by breadth without recursion:

1. The root gets units; a topic whose share of nodes is small (at most 22, or that is four
   levels deep) gets leaves, otherwise child topics, about 15 (jittered, at most 30) per level:
   40 nodes make 6 units of leaves, 50,000 make three levels of topics (units, lessons, parts)
   of 10 to 22 children each.
2. The first unit opens with a video, an audio recording and a worksheet, so a learner finds
   one of each within two clicks; every other unit with sub-topics opens with an overview video.
   Activities are about their topic's concept ("Watch: Friction, an introduction").
3. Every node but the root gets its own thumbnail (`thumbnails.node_thumbnail`).

    spec = build_demo_spec(seed=1, nodes=40, media=media)
    build_channel(spec)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable

from channels.builder import ChannelSpec, FileSpec, NodeSpec, stable_id
from channels.demo.media import DemoMedia
from channels.demo.thumbnails import channel_thumbnail_data_uri, node_thumbnail
from channels.demo.vocabulary import (
    ACTIVITY_NOTES,
    ASPECTS,
    KIND_LABELS,
    LEVEL_LABELS,
    Subject,
    subject_for_seed,
)
from content.constants import AUDIO, DOCUMENT, TOPIC, VIDEO

MIN_NODES = 5
MAX_NODES = 1_000_000
FANOUT = 15
MAX_CHILD_TOPICS = 30
# A topic with at most this many nodes to share out gets leaves only.
LEAF_GROUP_MAX = 22
MAX_TOPIC_DEPTH = 4
LEAF_KINDS = (VIDEO, AUDIO, DOCUMENT)
LEAF_WEIGHTS = (4, 2, 4)
STARTER_KINDS = (VIDEO, AUDIO, DOCUMENT)
AUTHOR = "kolibri-like demo"
LICENSE = "CC BY"
LANG = "en"


class DemoSizeError(ValueError):
    """The requested node count is outside what a demo channel can be (bad usage)."""

    exit_code = 2


def _aspect(position: int) -> str:
    """The angle of the `position`-th activity on a concept: distinct titles among siblings."""
    aspect = ASPECTS[position % len(ASPECTS)]
    return aspect if position < len(ASPECTS) else f"{aspect} ({position // len(ASPECTS) + 1})"


def demo_channel_id(seed: int) -> str:
    """The channel id of a seed: regenerating a seed replaces its channel, never duplicates it."""
    return stable_id("kolibri-like-demo-channel", seed)


def validate_node_count(nodes: int) -> int:
    if not MIN_NODES <= nodes <= MAX_NODES:
        raise DemoSizeError(
            f"--nodes must be between {MIN_NODES} and {MAX_NODES:,} (a root, a topic and a "
            f"video, an audio and a document at least); got {nodes}")
    return nodes


@dataclass
class _Pending:
    """A topic whose children are not made yet, and how many nodes they may use in all."""

    topic: NodeSpec
    budget: int
    depth: int
    numbers: tuple[int, ...]
    concept: str


class _TreeMaker:
    def __init__(self, *, seed: int, nodes: int, media: DemoMedia, subject: Subject,
                 progress: Callable[[str, int, int], None] | None) -> None:
        self.seed, self.nodes, self.media, self.subject = seed, nodes, media, subject
        self.channel_id = demo_channel_id(seed)
        self.rng = random.Random(f"kolibri-like-demo-tree:{seed}:{nodes}")
        self.made = 0
        self.progress = progress

    def new_id(self) -> str:
        node_id = stable_id(self.channel_id, "node", self.made)
        self.made += 1
        if self.progress is not None and (self.made % 500 == 0 or self.made == self.nodes):
            self.progress("thumbnails", self.made, self.nodes)
        return node_id

    def concepts(self, count: int) -> list[str]:
        """`count` lesson concepts, without repeats among siblings while the list lasts."""
        pool = list(self.subject.concepts)
        chosen: list[str] = []
        while len(chosen) < count:  # bounded: each pass adds min(count, len(pool)) >= 1
            chosen += self.rng.sample(pool, min(count - len(chosen), len(pool)))
        return chosen

    def topic_count(self, budget: int, depth: int) -> int:
        """How many child topics share `budget` nodes: about FANOUT per remaining level."""
        # Levels still to come below this topic, leaves included: at least the child topics
        # and their leaves.
        levels = max(2, round(math.log(max(budget, 2)) / math.log(FANOUT)))
        wanted = round(budget ** (1 / levels) * self.rng.uniform(0.75, 1.3))
        # Each child topic needs itself and two leaves at least.
        return max(1 if depth == 0 else 2, min(MAX_CHILD_TOPICS, wanted, budget // 3))

    def leaf(self, kind: str, concept: str, position: int) -> NodeSpec:
        """A video, audio or document on its topic's concept; `position` picks the angle."""
        node_id = self.new_id()
        files: list[FileSpec]
        duration: int | None = None
        if kind == VIDEO:
            clip = self.media.videos[self.rng.randrange(len(self.media.videos))]
            files, duration = clip.file_specs(), clip.duration
        elif kind == AUDIO:
            tone = self.media.audios[self.rng.randrange(len(self.media.audios))]
            files, duration = [tone.mp3.file_spec()], tone.duration
        else:
            files = [self.media.documents[self.rng.randrange(len(self.media.documents))]
                     .file_spec()]
        files.append(FileSpec(preset=f"{kind}_thumbnail", extension="png",
                              source=node_thumbnail(node_id, kind)))
        return NodeSpec(
            id=node_id, kind=kind, title=f"{KIND_LABELS[kind]}: {concept}, {_aspect(position)}",
            description=ACTIVITY_NOTES[kind].format(concept=concept.lower()),
            author=AUTHOR, license_name=LICENSE, license_owner=AUTHOR, lang=LANG,
            duration=duration, files=files)

    def topic(self, depth: int, numbers: tuple[int, ...], concept: str) -> NodeSpec:
        node_id = self.new_id()
        label = LEVEL_LABELS[min(depth, len(LEVEL_LABELS)) - 1]
        if depth == 1:
            units = self.subject.units
            index = numbers[-1] - 1
            concept = units[index % len(units)] + (
                f" {index // len(units) + 1}" if index >= len(units) else "")
        return NodeSpec(
            id=node_id, kind=TOPIC, title=f"{label} {'.'.join(map(str, numbers))}: {concept}",
            description=f"Learn about {concept.lower()} in {self.subject.name.lower()} through "
                        f"short videos, recordings and worksheets.",
            author=AUTHOR, license_name=LICENSE, license_owner=AUTHOR, lang=LANG,
            files=[FileSpec(preset="topic_thumbnail", extension="png",
                            source=node_thumbnail(node_id, TOPIC))])

    def fill(self, item: _Pending) -> list[_Pending]:
        """Make the children of one topic; return the child topics still to fill."""
        budget, depth = item.budget, item.depth
        is_first_unit = depth == 1 and item.numbers == (1,)
        leaves_only = depth > 0 and (budget <= LEAF_GROUP_MAX or depth >= MAX_TOPIC_DEPTH)
        leading: list[str] = []
        if is_first_unit:
            leading = list(STARTER_KINDS)
        elif depth == 1 and not leaves_only:
            leading = [VIDEO]
        if leaves_only:
            kinds = leading + self.rng.choices(LEAF_KINDS, LEAF_WEIGHTS,
                                               k=max(0, budget - len(leading)))
            for position, kind in enumerate(kinds[:budget]):
                item.topic.children.append(self.leaf(kind, item.concept, position))
            return []
        if leading and budget - len(leading) < 3:
            leading = []
        for position, kind in enumerate(leading):
            item.topic.children.append(self.leaf(kind, item.concept, position))
        remaining = budget - len(leading)
        count = self.topic_count(remaining, depth)
        base, extra = divmod(remaining, count)
        children: list[_Pending] = []
        for index, concept in enumerate(self.concepts(count)):
            numbers = (*item.numbers, index + 1)
            child = self.topic(depth + 1, numbers, concept)
            item.topic.children.append(child)
            children.append(_Pending(child, base + (1 if index < extra else 0) - 1, depth + 1,
                                     numbers, child.title.split(": ", 1)[1]))
        return children

    def make(self, name: str | None) -> ChannelSpec:
        root = NodeSpec(
            id=self.new_id(), kind=TOPIC, title=name or f"Demo: {self.subject.name}",
            description=f"{self.subject.tagline} A demo course generated on this server "
                        f"(seed {self.seed}, {self.nodes:,} items); it needs no internet.",
            author=AUTHOR, license_name=LICENSE, license_owner=AUTHOR, lang=LANG)
        queue = [_Pending(root, self.nodes - 1, 0, (), self.subject.name)]
        # Bounded: every pass makes at least one node and there are exactly `nodes` of them.
        for _guard in range(self.nodes):
            if not queue:
                break
            queue.extend(reversed(self.fill(queue.pop())))
        if queue or self.made != self.nodes:
            raise AssertionError(f"demo tree made {self.made} nodes, not {self.nodes}")
        return ChannelSpec(
            id=self.channel_id, name=root.title, root=root, description=root.description,
            author=AUTHOR, tagline=self.subject.tagline,
            thumbnail=channel_thumbnail_data_uri(self.channel_id), languages={LANG: "English"})


def build_demo_spec(*, seed: int, nodes: int, media: DemoMedia, name: str | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> ChannelSpec:
    """The channel spec of (seed, nodes), ready for `build_channel`; see the module docstring."""
    validate_node_count(nodes)
    maker = _TreeMaker(seed=seed, nodes=nodes, media=media, subject=subject_for_seed(seed),
                       progress=progress)
    return maker.make(name)
