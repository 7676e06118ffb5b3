"""Who references a stored file: the interface that apps implement, and the configured list.

Storage knows bytes, not meaning (DESIGN.md, "Who references a stored file"). Every app that
keeps files alive implements a *reference source*; the garbage collector keeps every checksum
that any source returns, and deletes nothing when any source fails; `verifystorage` asks the
sources who uses a missing or corrupt file.

Sources are listed in the setting `STORAGE_REFERENCE_SOURCES`, dotted paths to a class (built
without arguments) or to an object:

    STORAGE_REFERENCE_SOURCES = ["channels.references.ChannelReferenceSource"]

    for source in reference_sources():
        source.name, source.referenced_checksums()

Why a setting and not registration in `AppConfig.ready()`: a source that is missing makes the
collector delete live files, so the list must fail closed and be visible. A setting is read in
one place (`kolibri-like settings` shows it), a path that does not import is an error that
stops the collector instead of a registration that silently never happened, tests swap sources
with the `settings` fixture, and storage still imports no app (the way `DATABASE_ROUTERS` and
this project's `CONTENT_DB_CHANNEL_GATE` work). An empty list is refused for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from storage.paths import is_valid_checksum


@runtime_checkable
class ReferenceSource(Protocol):
    """What an app tells storage about the files it keeps alive.

    `referenced_checksums` returns every MD5 the app needs, now; it raises if it cannot know
    (a database it cannot read): the collector then deletes nothing. `describe_references`
    answers "who uses these files?" for reports, in words people read ("channel Maths (id)
    version 2, current"); checksums the source does not use are left out.
    """

    name: str

    def referenced_checksums(self) -> set[str]: ...

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]: ...


class ReferenceSourceError(Exception):
    """A source could not say what it references: nothing may be deleted on this run.

    The exit code is the cause's when it has one (a corrupt channel database is 4), else 6 (the
    source could not read what it needs).
    """

    def __init__(self, source_name: str, cause: BaseException) -> None:
        super().__init__(f"reference source {source_name!r} failed, so nothing was deleted: "
                         f"{cause.__class__.__name__}: {cause}")
        self.source_name = source_name
        cause_code = getattr(cause, "exit_code", None)
        self.exit_code = cause_code if isinstance(cause_code, int) and cause_code > 1 else 6


class NoReferenceSourcesError(Exception):
    """STORAGE_REFERENCE_SOURCES is empty: every stored file would look like garbage."""

    exit_code = 4


@dataclass(frozen=True)
class Mark:
    """The union of what every source references, and how many each returned."""

    checksums: frozenset[str]
    per_source: dict[str, int]


def reference_source_paths() -> list[str]:
    return list(getattr(settings, "STORAGE_REFERENCE_SOURCES", []))


def load_reference_source(dotted_path: str) -> ReferenceSource:
    """Import one source; a class is built without arguments. Import errors name the path."""
    try:
        loaded: Any = import_string(dotted_path)
        source = loaded() if isinstance(loaded, type) else loaded
    except Exception as error:  # noqa: BLE001 - any failure here must stop the collector
        raise ReferenceSourceError(dotted_path, error) from error
    if not isinstance(source, ReferenceSource):
        raise ReferenceSourceError(dotted_path, TypeError(
            "not a reference source (needs name, referenced_checksums, describe_references)"))
    return source


def reference_sources() -> list[ReferenceSource]:
    """Every configured source, loaded; raises rather than return a partial list."""
    paths = reference_source_paths()
    if not paths:
        raise NoReferenceSourcesError(
            "STORAGE_REFERENCE_SOURCES is empty: refusing to treat every stored file as garbage")
    return [load_reference_source(path) for path in paths]


def mark_referenced(sources: Iterable[ReferenceSource]) -> Mark:
    """Ask every source; any failure or any malformed checksum raises ReferenceSourceError.

    Checksums are checked with `re.fullmatch` (invariant 6): a source that returned `ABC...` or
    a name with a newline would otherwise fail to protect the lowercase file it meant.
    """
    union: set[str] = set()
    per_source: dict[str, int] = {}
    for source in sources:
        name = getattr(source, "name", source.__class__.__name__)
        try:
            checksums = source.referenced_checksums()
        except Exception as error:  # noqa: BLE001 - whatever went wrong, delete nothing
            raise ReferenceSourceError(name, error) from error
        malformed = next((value for value in checksums if not is_valid_checksum(value)), None)
        if malformed is not None:
            raise ReferenceSourceError(name, ValueError(f"malformed checksum {malformed!r}"))
        per_source[name] = len(checksums)
        union.update(checksums)
    return Mark(frozenset(union), per_source)


def describe_references(sources: Iterable[ReferenceSource],
                        checksums: set[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(checksum -> who uses it, source name -> why it could not answer), for reports.

    A report is still worth printing when one source fails, so failures are returned, not
    raised.
    """
    users: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    if not checksums:
        return users, failures
    for source in sources:
        name = getattr(source, "name", source.__class__.__name__)
        try:
            described = source.describe_references(set(checksums))
        except Exception as error:  # noqa: BLE001 - reported beside the other findings
            failures[name] = f"{error.__class__.__name__}: {error}"
            continue
        for checksum, descriptions in described.items():
            if checksum in checksums:
                users.setdefault(checksum, []).extend(descriptions)
    return users, failures
