"""Cross-channel search (issue 7, scenario 5): one small FTS5 index per channel version.

Channel databases are never merged or ATTACHed together. Each channel version gets its own
index file, built from that version's immutable channel file, kept beside it and removed with
the channel:

    CONTENT_DIR/databases/search/<channel_id>/<version>.sqlite3

- `content.search.index`: build (temp file, then rename), find, remove index files.
- `content.search.query`: turn user text into safe FTS5 expressions, run them on one index.
- `content.search.service`: search every servable channel's index, merge by score in Python,
  then read the page's nodes (files, `available`) from their own channel databases.
- `content.search.api`: `GET /api/search/?q=&kind=&lang=&channel=`.

When indexes are built: when a version is made current (publish, import, revert: a hook in
`channels.versions.make_version_current`), for every served channel at start-up
(`scanchannels`, which `kolibri-like start` runs: this indexes existing channels after an
upgrade), and, as a last resort, on the first search that finds a channel without one.
"""
