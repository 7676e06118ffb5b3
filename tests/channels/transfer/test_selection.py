"""Choosing nodes and files: subtrees, exclusions, unknown and malformed ids, and the fewest
subtree roots that describe a selection (property-tested on random trees)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.transfer.errors import BadTransferArgumentError, NodeNotFoundError
from channels.transfer.selection import (
    ChannelTree,
    covering_roots,
    parse_node_ids,
    read_files,
    read_tree,
    select_nodes,
    subtrees_of,
)


def _tree(parents: list[int]) -> ChannelTree:
    """Node i's parent is parents[i - 1] (< i): every such list is a tree rooted at 0."""
    ids = [f"{index:032x}" for index in range(len(parents) + 1)]
    tree = ChannelTree(root_id=ids[0])
    tree.parent[ids[0]] = None
    for index, parent in enumerate(parents, start=1):
        tree.parent[ids[index]] = ids[parent]
        tree.children.setdefault(ids[parent], []).append(ids[index])
    tree.order = tree.subtree(ids[0])
    return tree


trees = st.integers(min_value=0, max_value=40).flatmap(
    lambda size: st.tuples(*[st.integers(min_value=0, max_value=index)
                             for index in range(size)]))


@given(trees, st.data())
def test_covering_roots_describe_exactly_a_union_of_subtrees(parents, data):
    tree = _tree(list(parents))
    roots = data.draw(st.lists(st.sampled_from(tree.order), max_size=5))
    selected = subtrees_of(tree, roots)
    covering = covering_roots(tree, selected)
    assert subtrees_of(tree, covering) == selected
    assert all(tree.parent[node] not in selected for node in covering)  # fewest


@given(trees, st.data())
def test_selection_is_the_chosen_subtrees_minus_the_excluded(parents, data):
    tree = _tree(list(parents))
    chosen = data.draw(st.lists(st.sampled_from(tree.order), max_size=3))
    excluded = data.draw(st.lists(st.sampled_from(tree.order), max_size=3))
    selected = select_nodes(tree, "e" * 32, node_ids=chosen or None,
                            exclude_node_ids=excluded or None)
    expected = subtrees_of(tree, chosen or [tree.root_id]) - subtrees_of(tree, excluded)
    assert set(selected) == expected
    assert selected == [node for node in tree.order if node in expected]  # tree order


def test_node_ids_are_checked_before_use():
    assert parse_node_ids(None) is None and parse_node_ids(" , ") is None
    assert parse_node_ids(f"{'a' * 32}, {'b' * 32},{'a' * 32}") == ["a" * 32, "b" * 32]
    for bad in ("A" * 32, "0x" + "a" * 30, "a" * 31, "{" + "a" * 32 + "}", "a" * 32 + "\n"):
        with pytest.raises(BadTransferArgumentError):
            parse_node_ids([bad])
    tree = _tree([0, 0])
    with pytest.raises(NodeNotFoundError):
        select_nodes(tree, "e" * 32, node_ids=["f" * 32])


@pytest.mark.django_db
def test_files_come_once_each_in_tree_order(make_channel):
    from channels.builder import FileSpec, NodeSpec

    shared = b"%PDF-1.4 shared worksheet\n"
    root = NodeSpec(title="root", children=[
        NodeSpec(title=f"leaf {index}", kind="document", files=[
            FileSpec(preset="document", extension="pdf", source=shared if index != 1 else
                     b"%PDF-1.4 own\n")]) for index in range(3)])
    build = make_channel("shared", root=root)
    tree = read_tree(build.path)
    files, invalid = read_files(build.path, select_nodes(tree, build.channel_id))
    assert invalid == [] and len(files) == 2
    assert files[0].size == len(shared) and files[0].relpath.endswith(".pdf")
