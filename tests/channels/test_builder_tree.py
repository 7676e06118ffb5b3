"""Hypothesis: for any tree shape, the built file's MPTT fields describe exactly that tree."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel
from content.models import ContentNode
from routers.context import using_content_database


def trees(max_leaves: int = 25):
    leaf = st.builds(lambda n: NodeSpec(title=f"leaf {n}", kind="document", files=[
        FileSpec(preset="document", extension="pdf", source=f"%PDF {n}".encode())]),
        st.integers(0, 3))
    return st.recursive(
        leaf,
        lambda children: st.lists(children, min_size=0, max_size=4).map(
            lambda kids: NodeSpec(title="topic", kind="topic", children=kids)),
        max_leaves=max_leaves,
    ).map(lambda node: node if node.kind == "topic" else NodeSpec(title="root", kind="topic",
                                                                  children=[node]))


def expected_shape(node: NodeSpec) -> list[tuple[int, int]]:
    """(depth, number of descendants) of each node in depth-first order."""
    shape: list[tuple[int, int]] = []

    def visit(current: NodeSpec, depth: int) -> int:
        index = len(shape)
        shape.append((depth, 0))
        descendants = sum(1 + visit(child, depth + 1) for child in current.children)
        shape[index] = (depth, descendants)
        return descendants

    visit(node, 0)
    return shape


@pytest.mark.django_db
@hypothesis_settings(max_examples=20, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=trees())
def test_mptt_fields_match_the_tree(root: NodeSpec):
    expected = expected_shape(root)
    result = build_channel(ChannelSpec(name="shape", root=root))
    with using_content_database(result.channel_id):
        rows = list(ContentNode.objects.order_by("lft").values_list(
            "lft", "rght", "level", "parent_id", "id", "available", "kind"))
    assert [(level, (rght - lft - 1) // 2) for lft, rght, level, *_ in rows] == expected
    numbers = sorted(n for lft, rght, *_ in rows for n in (lft, rght))
    assert numbers == list(range(1, 2 * len(rows) + 1))
    by_id = {row[4]: row for row in rows}
    for lft, rght, level, parent_id, _node_id, available, kind in rows:
        if parent_id is not None:
            parent = by_id[parent_id]
            assert parent[0] < lft and rght < parent[1] and parent[2] == level - 1
        if kind == "topic":
            descendants_available = any(
                row[5] and row[6] != "topic" for row in rows if lft < row[0] and row[1] < rght)
            assert available == descendants_available
