"""Which nodes and files a transfer moves, read from a channel database file.

Node ids name subtrees (Kolibri's `--node_ids`): a node stands for itself and all its
descendants; `exclude_node_ids` removes subtrees again. The tree is read from `parent_id`, not
from the MPTT columns, so a file whose lft/rght are off still selects the right nodes. Names
read from the file (MD5, extension) are checked with `re.fullmatch` before they build a path.

    tree = read_tree(path)
    selected = select_nodes(tree, channel_id, node_ids=["ab..."], exclude_node_ids=None)
    files, invalid = read_files(path, selected)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from channels.checks import open_untrusted
from channels.errors import InvalidChannelDatabaseError
from channels.transfer.errors import BadTransferArgumentError, NodeNotFoundError
from routers.ids import CHANNEL_ID_PATTERN
from storage.paths import CHECKSUM_PATTERN, EXTENSION_PATTERN, storage_relpath


@dataclass(frozen=True)
class FileRef:
    """A stored file by its content address; `size` as the channel database gives it."""

    checksum: str
    extension: str
    size: int | None

    @property
    def name(self) -> str:
        return f"{self.checksum}.{self.extension}"

    @property
    def relpath(self) -> str:
        return storage_relpath(self.checksum, self.extension)


@dataclass
class ChannelTree:
    root_id: str
    order: list[str] = field(default_factory=list)  # every node, in tree order
    parent: dict[str, str | None] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def subtree(self, node_id: str) -> list[str]:
        """The node and its descendants, depth first (bounded: each node is visited once)."""
        found: list[str] = []
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            found.append(current)
            stack.extend(reversed(self.children.get(current, [])))
        return found


def parse_node_ids(value: str | Iterable[str] | None) -> list[str] | None:
    """"a,b" or ["a", "b"] -> checked ids; None or empty stays None (no selection given).

    Spaces around the commas of a typed list are dropped; ids given as a list are taken as
    they are (a trailing newline there is an error, not something to tidy up).
    """
    if value is None:
        return None
    if isinstance(value, str):
        ids = [part.strip() for part in value.split(",") if part.strip()]
    else:
        ids = list(value)
    bad = [node_id for node_id in ids if CHANNEL_ID_PATTERN.fullmatch(node_id) is None]
    if bad:
        raise BadTransferArgumentError(
            f"not a node id (32 lowercase hex characters): {bad[0]!r}")
    return list(dict.fromkeys(ids)) or None


def read_tree(path: Path) -> ChannelTree:
    """The node tree of a channel file that passed `check_channel_database`."""
    connection = open_untrusted(path)
    try:
        root_id = connection.execute("SELECT root_id FROM content_channelmetadata").fetchone()[0]
        rows = connection.execute(
            "SELECT id, parent_id FROM content_contentnode "
            "ORDER BY tree_id, lft, sort_order, id").fetchall()
    except (sqlite3.DatabaseError, TypeError) as error:
        raise InvalidChannelDatabaseError(path, f"cannot read its nodes: {error}") from None
    finally:
        connection.close()
    tree = ChannelTree(root_id=str(root_id))
    for node_id, parent_id in rows:
        tree.order.append(node_id)
        tree.parent[node_id] = parent_id
        if parent_id is not None:
            tree.children.setdefault(parent_id, []).append(node_id)
    return tree


def select_nodes(tree: ChannelTree, channel_id: str, *, node_ids: list[str] | None = None,
                 exclude_node_ids: list[str] | None = None) -> list[str]:
    """Nodes of the chosen subtrees (all, without `node_ids`) minus the excluded subtrees, in
    tree order. Unknown ids raise NodeNotFoundError: a typo must not import nothing quietly."""
    unknown = [node_id for node_id in [*(node_ids or []), *(exclude_node_ids or [])]
               if node_id not in tree.parent]
    if unknown:
        raise NodeNotFoundError(channel_id, unknown)
    chosen: set[str] = set()
    for node_id in node_ids if node_ids else [tree.root_id]:
        chosen.update(tree.subtree(node_id))
    for node_id in exclude_node_ids or []:
        chosen.difference_update(tree.subtree(node_id))
    return [node_id for node_id in tree.order if node_id in chosen]


def subtrees_of(tree: ChannelTree, roots: Iterable[str]) -> set[str]:
    """Every node under `roots`; ids the tree does not know are ignored (another version's)."""
    found: set[str] = set()
    for node_id in roots:
        if node_id in tree.parent and node_id not in found:
            found.update(tree.subtree(node_id))
    return found


def covering_roots(tree: ChannelTree, selected: set[str]) -> list[str]:
    """The fewest subtree roots whose subtrees are exactly `selected` (Kolibri's manifest
    "selectors"): a node whose whole subtree is selected stands for it."""
    whole: dict[str, bool] = {}
    for node_id in reversed(tree.order):  # children before parents
        whole[node_id] = node_id in selected and all(
            whole.get(child, False) for child in tree.children.get(node_id, []))
    return sorted(node_id for node_id in tree.order if whole[node_id]
                  and not whole.get(tree.parent.get(node_id) or "", False))


def read_node_files(path: Path, node_ids: list[str]
                    ) -> tuple[dict[str, list[FileRef]], list[str]]:
    """node id -> its files, for these nodes, and the malformed names found.

    One query over all file rows, filtered here: simpler than chunked IN lists, and a channel's
    file table fits in memory.
    """
    wanted = set(node_ids)
    connection = open_untrusted(path)
    try:
        rows = connection.execute(
            "SELECT f.contentnode_id, l.id, l.extension, l.file_size "
            "FROM content_file AS f JOIN content_localfile AS l ON l.id = f.local_file_id "
            "ORDER BY f.priority, f.id").fetchall()
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(path, f"cannot read its files: {error}") from None
    finally:
        connection.close()
    by_node: dict[str, list[FileRef]] = {}
    invalid: set[str] = set()
    for node_id, checksum, extension, size in rows:
        if node_id not in wanted:
            continue
        if not (isinstance(checksum, str) and CHECKSUM_PATTERN.fullmatch(checksum)
                and isinstance(extension, str) and EXTENSION_PATTERN.fullmatch(extension)):
            invalid.add(f"{checksum!r}.{extension!r}")
            continue
        by_node.setdefault(node_id, []).append(
            FileRef(checksum, extension, int(size) if isinstance(size, int) else None))
    return by_node, sorted(invalid)


def distinct_files(node_ids: list[str], by_node: dict[str, list[FileRef]]) -> list[FileRef]:
    """Each file once, in the order of its first use by `node_ids` (tree order: the first
    lessons become complete first)."""
    found: dict[str, FileRef] = {}
    for node_id in node_ids:
        for ref in by_node.get(node_id, []):
            found.setdefault(ref.checksum, ref)
    return list(found.values())


def read_files(path: Path, node_ids: list[str]) -> tuple[list[FileRef], list[str]]:
    """Distinct files of these nodes in order of first use, and the malformed names found."""
    by_node, invalid = read_node_files(path, node_ids)
    return distinct_files(node_ids, by_node), invalid
