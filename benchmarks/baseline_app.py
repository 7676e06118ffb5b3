"""The in-run baseline of scenario 2: the content API's SQL on the same files, and nothing else.

A bare WSGI app: per-thread read-only `sqlite3` connections, the same queries the content API runs
(count, page, files of the page, ancestors; the channel list from the default database), and
`json.dumps` of the rows. Served by waitress with the server's thread count, in its own process.

    python -m benchmarks.baseline_app --channel-db C.sqlite3 --default-db D.sqlite3 --port 8001

    GET /children?parent=<node_id>   GET /node?id=<node_id>   GET /search?q=<text>   GET /channels
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

PAGE_SIZE = 30
NODE_COLUMNS = "*"
FILES_SQL = ("SELECT f.*, l.* FROM content_file f JOIN content_localfile l ON f.local_file_id = l.id "
             "WHERE f.contentnode_id IN ({marks}) ORDER BY f.contentnode_id, f.priority, f.id")


def make_app(channel_db: str, default_db: str) -> Callable[..., Iterable[bytes]]:
    local = threading.local()

    def connect(path: str) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def rows(connection: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        cursor = connection.execute(sql, tuple(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def with_files(connection: sqlite3.Connection, nodes: list[dict]) -> list[dict]:
        if nodes:
            ids = [node["id"] for node in nodes]
            files = rows(connection, FILES_SQL.format(marks=",".join("?" * len(ids))), ids)
            by_node: dict[str, list[dict]] = {}
            for file_row in files:
                by_node.setdefault(file_row["contentnode_id"], []).append(file_row)
            for node in nodes:
                node["files"] = by_node.get(node["id"], [])
        return nodes

    def page(connection: sqlite3.Connection, where: str, order: str, params: list[Any]) -> dict:
        count = connection.execute(f"SELECT COUNT(*) FROM content_contentnode WHERE {where}",
                                   params).fetchone()[0]
        nodes = rows(connection, f"SELECT * FROM content_contentnode WHERE {where} "
                     f"ORDER BY {order} LIMIT {PAGE_SIZE}", params)
        return {"count": count, "results": with_files(connection, nodes)}

    def answer(path: str, query: dict[str, list[str]]) -> Any:
        if not hasattr(local, "channel"):
            local.channel, local.default = connect(channel_db), connect(default_db)
        channel = local.channel
        if path == "/children":
            return page(channel, "parent_id = ?", "sort_order, lft, id", [query["parent"][0]])
        if path == "/search":
            pattern = f"%{query['q'][0]}%"
            return page(channel, "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')",
                        "lft, id", [pattern, pattern])
        if path == "/node":
            found = rows(channel, "SELECT * FROM content_contentnode WHERE id = ? LIMIT 1",
                         [query["id"][0]])
            if not found:
                return None
            node = with_files(channel, found)[0]
            node["ancestors"] = rows(
                channel, "SELECT id, title FROM content_contentnode WHERE tree_id = ? AND "
                "lft < ? AND rght > ? ORDER BY lft", [node["tree_id"], node["lft"], node["rght"]])
            return node
        if path == "/channels":
            return rows(local.default, "SELECT * FROM channels_channel WHERE state = 'available'")
        return None

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = answer(environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", "")))
        if body is None:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        data = json.dumps(body, default=str).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel-db", required=True)
    parser.add_argument("--default-db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    arguments = parser.parse_args()
    import waitress

    waitress.serve(make_app(arguments.channel_db, arguments.default_db), host="127.0.0.1",
                   port=arguments.port, threads=arguments.threads, ident="baseline")


if __name__ == "__main__":
    main()
