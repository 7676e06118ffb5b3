"""Shared helpers of the search tests (no tests here): channels whose titles and descriptions a
test chooses."""

from __future__ import annotations

from channels.builder import FileSpec, NodeSpec


def leaf(title: str, description: str = "", *, kind: str = "document",
         lang: str | None = None) -> NodeSpec:
    """A playable resource with its own bytes (a PDF, or an mp3 for audio)."""
    if kind == "audio":
        files = [FileSpec(preset="audio", extension="mp3", source=f"mp3 {title}".encode())]
    else:
        files = [FileSpec(preset="document", extension="pdf",
                          source=f"%PDF-1.4 {title}".encode())]
    return NodeSpec(title=title, kind=kind, description=description, lang=lang, files=files)


def tree(label: str, *leaves: NodeSpec) -> NodeSpec:
    """A root, one topic titled "<label> unit", and the leaves under that topic."""
    unit = NodeSpec(title=f"{label} unit", kind="topic", children=list(leaves))
    return NodeSpec(title=f"{label} root", kind="topic", children=[unit])


def search(client, **params):
    return client.get("/api/search/", params)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["title"] for result in response.json()["results"]]
