"""Backups that prove themselves: ``qingliu backup DEST``, ``backup --verify SRC``,
``qingliu restore SRC`` (docs/backup.md).

A backup is a folder::

    manifest.json        what the backup is (below), signed with the history key
    database.sqlite3     SQLite: the online backup API's copy (engine.store.backup_db)
    database.pgdump      PostgreSQL: pg_dump -Fc of the URL's schema (engine.store.backup_pg)
    blobs/...            the blob folder as it was (engine/blobs), every file

The manifest records the format, the Qingliu version, the backend (and schema), the schema
revision, the head of the global history chain (``gseq``, ``hash``), counts, the SHA-256 of
every file, the time (the engine's clock) and the **fingerprint** of the history key and of
every other key file (the sealing key ...: an HMAC of a fixed label under the key: it names the
key without revealing it); a restore refuses an installation that lacks one or holds
another. The keys themselves never enter a backup: ``var/keys`` is backed up apart, offline.

A backup is written into a hidden sibling of DEST and renamed to DEST at the end, after it was
checked as ``--verify`` checks it: a failed backup leaves no half folder. A DEST that exists and
is not an empty folder is refused (``Conflict``, exit 6).

Checking a backup (``check``) never touches the live database: the manifest's key fingerprint
against the installation's key, its signature, every file's digest (and no file it does not
list), then the history audit (``engine.audit.verify``) of the database copy with the
installation's key, its blobs, and its head and counts against the manifest. A failure is a
``BackupRefused`` (exit 1) listing every problem. ``restore`` runs the same checks on a staging
copy beside the live database, copies the blobs in, then swaps the staging copy in at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from engine.audit import HISTORY_KEY, verify_store
from engine.backup_keys import fingerprint, history_key, key_fingerprints, key_problems
from engine.blobs import FileBlobStore
from engine.errors import ConfigError, Conflict, QingliuError
from engine.keys import KeyRing
from engine.store import backup_pg, migrate
from engine.store._chain import keyed
from engine.store.backup_db import SIDE_FILES, Facts, facts, sqlite_copy, sqlite_facts, sqlite_path
from engine.store.repository import Store

__all__ = [
    "FORMAT",
    "MANIFEST",
    "BackupRefused",
    "check",
    "file_digest",
    "fingerprint",
    "read_manifest",
    "sign",
    "staged",
    "take",
]

FORMAT = "qingliu-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
BLOBS = "blobs"
_INCOMING = ".incoming-"  # a blob being written (engine/blobs/store.py): not yet a blob


class BackupRefused(QingliuError):
    """A backup that does not prove itself: ``problems`` names each (a file that does not
    match the manifest, a history that does not verify, another key)."""

    status, kind, exit_code = 422, "backup-refused", 1
    title = "The backup is refused"

    def __init__(self, folder: Path, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"backup {folder}: REFUSED: {len(self.problems)} problem(s):\n{lines}")

    def extensions(self) -> dict[str, Any]:
        return {"problems": self.problems}


def sign(keys: KeyRing, manifest: dict[str, Any]) -> str:
    """The manifest's signature: an HMAC with the history key over its canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return keyed(history_key(keys), "qingliu-backup-manifest", canonical)


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _qingliu_version() -> str:
    try:
        return version("qingliu")
    except PackageNotFoundError:
        return "unknown"


def _refuse_dest(dest: Path) -> None:
    if dest.is_dir() and not any(dest.iterdir()):
        return
    if dest.exists() or dest.is_symlink():
        raise Conflict(f"{dest} already exists and is not an empty folder: name a new one")


@contextmanager
def _partial(dest: Path) -> Iterator[Path]:
    """A hidden folder beside ``dest``, renamed to ``dest`` when the block ends normally and
    deleted when it fails."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    temp.mkdir(mode=0o700)
    try:
        yield temp
        os.replace(temp, dest)  # an empty folder at dest is replaced as a whole
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _copy_blobs(root: Path, target: Path) -> None:
    """Every file of the blob folder ``root`` (derived copies too) under ``target``."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(_INCOMING):
            copy = target / path.relative_to(root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(path, copy)
            except FileNotFoundError:  # deleted meanwhile (no upload names it): the check
                continue  # below reports it if the copied database still does


def _snapshot_database(store: Store, folder: Path) -> tuple[str, Facts, dict[str, Any]]:
    """The database copied into ``folder``: (its file name, its facts, backend details)."""
    if store.dialect == "sqlite":
        sqlite_copy(sqlite_path(store.url), folder / SQLITE_FILE)
        return SQLITE_FILE, sqlite_facts(folder / SQLITE_FILE), {"backend": "sqlite"}
    schema = backup_pg.schema_of(store.url)
    with store.snapshot() as tx, backup_pg.exported_snapshot(tx.conn) as snapshot:
        found = facts(tx)
        backup_pg.dump(store.url, schema, folder / PG_FILE, snapshot)
    return PG_FILE, found, {"backend": "postgresql", "schema": schema}


def take(
    store: Store, keys: KeyRing, blobs: Path, dest: Path, now: datetime, *, verify: bool = True
) -> dict[str, Any]:
    """Back the database of ``store`` and the blob folder ``blobs`` up into the new folder
    ``dest``; the manifest. With ``verify``, the backup is checked (``check``) before it is
    renamed into place."""
    _refuse_dest(dest)
    with store.read() as tx:
        head = tx.history_head()
    if head is None or head.gseq == 0:
        keys.get(HISTORY_KEY)  # no history yet: the key its first write would make
    print_ = fingerprint(keys)  # before anything is written: no key, no backup
    with _partial(dest) as folder:
        name, found, backend = _snapshot_database(store, folder)
        _copy_blobs(blobs, folder / BLOBS)
        files = {name: file_digest(folder / name)}
        blob_files = sorted(p for p in (folder / BLOBS).rglob("*") if p.is_file())
        for path in blob_files:
            files[path.relative_to(folder).as_posix()] = file_digest(path)
        counts = {**found.counts, "blobs": sum(1 for p in blob_files if "derived" not in p.parts)}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "qingliu": _qingliu_version(),
            **backend,
            "schema_revision": found.revision,
            "history_head": {"gseq": found.head_gseq, "hash": found.head_hash},
            "counts": counts,
            "files": files,
            "taken_at": now.isoformat(),
            "key": {"name": HISTORY_KEY, "fingerprint": print_},
            "keys": key_fingerprints(keys),
        }
        manifest["signature"] = sign(keys, manifest)
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (folder / MANIFEST).write_text(text, encoding="utf-8")
        if verify:  # the copy checked beside the backup: /tmp may be a small tmpfs
            check(folder, keys, store.url, beside=folder.parent)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the backup ``folder``; ``ConfigError`` when there is none to read."""
    path = folder / MANIFEST
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{folder} is not a Qingliu backup: it has no {MANIFEST}") from exc
    except (OSError, ValueError) as exc:
        raise BackupRefused(folder, [f"{MANIFEST} cannot be read: {exc}"]) from exc
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        found = value.get("format") if isinstance(value, dict) else None
        raise BackupRefused(folder, [f"{MANIFEST}: format {found!r}, this Qingliu reads {FORMAT}"])
    return value


def _file_problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return [f"{MANIFEST} lists no files"]
    problems = []
    for name, digest in sorted(listed.items()):
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute() or not path.is_file():
            problems.append(f"{name}: missing (the manifest lists it)")
        elif file_digest(path) != digest:
            problems.append(f"{name}: its SHA-256 does not match the manifest (it was altered)")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest (added after the backup)")
    return problems


def _check_manifest(folder: Path, keys: KeyRing) -> dict[str, Any]:
    """The manifest, after the key, the signature, the revision and every file were checked."""
    manifest = read_manifest(folder)
    ours = fingerprint(keys)
    theirs = (manifest.get("key") or {}).get("fingerprint")
    if theirs != ours:
        raise BackupRefused(
            folder,
            [
                f"it was made with another history key (fingerprint {theirs}); this "
                f"installation's key is {ours}: restore the keys folder that belongs with it"
            ],
        )
    problems = key_problems(manifest, keys)
    if problems:
        raise BackupRefused(folder, problems)
    if manifest.get("signature") != sign(keys, manifest):
        problems.append(f"{MANIFEST}: its signature does not verify: it was altered")
    problems += _file_problems(folder, manifest)
    if problems:
        raise BackupRefused(folder, problems)
    needed = migrate.head()
    if manifest.get("schema_revision") != needed:
        raise ConfigError(
            f"backup {folder} is at schema revision {manifest.get('schema_revision')}, this "
            f"Qingliu needs {needed}: restore it with the Qingliu that made it "
            f"({manifest.get('qingliu')}), then upgrade (`qingliu db upgrade`)"
        )
    return manifest


def _audit(store: Store, keys: KeyRing, folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The history audit of a restored copy, and its facts against the manifest's."""
    report = verify_store(store, keys, blobs=FileBlobStore(folder / BLOBS))
    problems = list(report.problems)
    with store.read() as tx:
        found = facts(tx)
    head = manifest.get("history_head") or {}
    if (found.head_gseq, found.head_hash) != (head.get("gseq"), head.get("hash")):
        problems.append(
            f"history head: the copy ends at global event {found.head_gseq}, the manifest "
            f"records {head.get('gseq')}"
        )
    counts = manifest.get("counts") or {}
    for name, count in found.counts.items():
        if counts.get(name) != count:
            problems.append(f"counts: {name} {count} in the copy, {counts.get(name)} recorded")
    return problems


@contextmanager
def staged(folder: Path, keys: KeyRing, url: str, beside: Path | None = None) -> Iterator[Store]:
    """The backup's database restored into a staging copy and checked: a store on it. SQLite:
    a file in ``beside`` (a temporary folder when None); PostgreSQL: a staging database on the
    server of ``url``. ``BackupRefused`` when anything does not verify."""
    manifest = _check_manifest(folder, keys)
    if manifest.get("backend") == "postgresql":
        with _staged_pg(folder, url, manifest) as store:
            _refuse_problems(folder, _audit(store, keys, folder, manifest))
            yield store
        return
    if manifest.get("backend") != "sqlite":
        raise BackupRefused(folder, [f"{MANIFEST}: unknown backend {manifest.get('backend')!r}"])
    with _staging_folder(beside) as where:
        copy = where / f".{SQLITE_FILE}.staging-{uuid.uuid4().hex[:8]}"
        shutil.copyfile(folder / SQLITE_FILE, copy)
        copy.chmod(0o600)
        try:
            if file_digest(copy) != manifest["files"][SQLITE_FILE]:
                raise BackupRefused(folder, [f"{SQLITE_FILE}: changed while it was copied"])
            store = Store(f"sqlite:///{copy}")
            try:
                _refuse_problems(folder, _audit(store, keys, folder, manifest))
                yield store
            finally:
                store.dispose()
        finally:
            for side in ("", *SIDE_FILES):
                Path(f"{copy}{side}").unlink(missing_ok=True)


def _refuse_problems(folder: Path, problems: list[str]) -> None:
    if problems:
        raise BackupRefused(folder, problems)


@contextmanager
def _staging_folder(beside: Path | None) -> Iterator[Path]:
    if beside is not None:
        yield beside
        return
    with tempfile.TemporaryDirectory(prefix="qingliu-check-") as where:
        yield Path(where)


@contextmanager
def _staged_pg(folder: Path, url: str, manifest: dict[str, Any]) -> Iterator[Store]:
    if not url.startswith("postgresql"):
        raise ConfigError(
            f"backup {folder} is of a PostgreSQL database: check or restore it with "
            "QINGLIU_DATABASE_URL naming a PostgreSQL server"
        )
    schema = str(manifest.get("schema") or "public")
    with backup_pg.staging_database(url) as database:
        staging_url = backup_pg.with_schema(url, schema, database)
        backup_pg.tool("pg_restore")  # missing, it is a ConfigError; a dump it fails on is not
        try:
            backup_pg.restore(staging_url, folder / PG_FILE, clean=True)
        except ConfigError as exc:
            raise BackupRefused(folder, [f"{PG_FILE}: it does not restore: {exc}"]) from exc
        store = Store(staging_url)
        try:
            yield store
        finally:
            store.dispose()


def check(folder: Path, keys: KeyRing, url: str, beside: Path | None = None) -> dict[str, Any]:
    """Check the backup ``folder`` as the module docstring says, without touching the live
    database (PostgreSQL: a staging database on the server of ``url``; SQLite: a copy in
    ``beside``, else in a temporary folder): its manifest."""
    with staged(folder, keys, url, beside):
        pass
    return read_manifest(folder)
