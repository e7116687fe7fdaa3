"""Settings from the home's ``config/`` (engine/home.py: ``--home``, ``QINGLIU_HOME``,
``QINGLIU_CONFIG`` or the working directory) and the environment, and the one place that
assembles an ``Engine`` from them. Relative paths of the settings file (the SQLite file of
``database_url``, ``keys``, ``blobs_dir``, ``workflows``) are relative to the home; those given
in the environment (``QINGLIU_DATABASE_URL``, ``QINGLIU_KEYS``, ``QINGLIU_BLOBS``) to the
working directory.

``config/settings.yaml``::

    database_url: sqlite:///var/qingliu.db   # QINGLIU_DATABASE_URL wins over this
    handlers: handlers                        # the domain package: domain() -> Domain
    workflows: workflows                      # folder loaded by `qingliu load` / `serve`
    public_base_url: http://localhost:8000    # the API as agencies reach it (QR codes)
    keys: var/keys                            # QINGLIU_KEYS wins: keys kept outside the database
    max_body_bytes: 1048576                   # the largest HTTP request body (JSON or YAML)
    blobs_dir: var/blobs                      # QINGLIU_BLOBS wins: evidence files (engine/blobs)

Without ``blobs_dir`` the blob folder is ``blobs`` next to an embedded SQLite database
(``var/blobs`` for ``var/qingliu.db``), else ``var/blobs``. Back it up with the database.

``config/calendar.yaml`` is the working-day calendar; every YAML file in ``config/reference/``
is reference data handed to handlers as ``ctx.reference[<file stem>]``. If
``reference/jurisdictions.yaml`` exists, its ``jurisdictions`` list (``code``, ``parent``)
decides which cases an actor of a jurisdiction reaches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engine.blobs import FileBlobStore
from engine.clock import Clock
from engine.domain import Domain, load_domain
from engine.errors import ConfigError
from engine.home import CONFIG_ENV, locate, within
from engine.keys import KeyRing
from engine.runtime import Engine
from engine.scope import Scope
from engine.store import migrate
from engine.store.repository import Store
from engine.time.calendar import WorkingCalendar
from engine.time.logical import InstallationClock

__all__ = [
    "Settings",
    "blobs_of",
    "build_engine",
    "calendar_of",
    "load_settings",
    "require_home",
    "scope_of",
]

DEFAULT_DATABASE_URL = "sqlite:///var/qingliu.db"
# Where agencies reach the HTTP API; outfall QR codes point at records under it.
DEFAULT_PUBLIC_BASE_URL = "http://localhost:8000"
# The largest request body the HTTP API reads (413 beyond it): JSON and YAML alike.
DEFAULT_MAX_BODY_BYTES = 1 << 20
DEFAULT_BLOBS_DIR = "var/blobs"
DEFAULT_KEYS_DIR = "var/keys"
KNOWN_SETTINGS = {
    "database_url",
    "handlers",
    "workflows",
    "public_base_url",
    "keys",
    "max_body_bytes",
    "blobs_dir",
    "log_format",  # qingliu serve: text or json (QINGLIU_LOG_FORMAT wins; docs/operations.md)
}


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    database_url: str = DEFAULT_DATABASE_URL
    handlers: str = "handlers"
    workflows: str = "workflows"
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    keys_dir: str | None = None  # None: QINGLIU_KEYS, else var/keys (engine.keys)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    blobs_dir: str | None = None  # None: QINGLIU_BLOBS, else beside the SQLite file (blobs_of)
    log_format: str = "text"
    reference: dict[str, Any] = field(default_factory=dict)
    # No home was found (engine/home.py): the refusal of every command that needs the database.
    home_problem: str | None = None

    @property
    def home(self) -> Path:
        """The home folder: the parent of ``config_dir``."""
        return self.config_dir.parent


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load_settings(config_dir: str | Path | None = None) -> Settings:
    """The settings of ``config_dir`` (its parent is the home), else of the home found by
    ``engine.home.locate``."""
    home: Path | None = None
    if config_dir is not None:
        folder = Path(config_dir).absolute()
        problem = None
    else:
        located = locate()
        folder, problem = located.config_dir, located.problem
        if located.source == CONFIG_ENV:
            # The legacy QINGLIU_CONFIG keeps its meaning of before the home: relative paths
            # of its settings are relative to the working directory (an installation that
            # sets it finds its database, keys and blobs where they always were).
            home = Path.cwd()
    home = home or folder.parent
    raw: dict[str, Any] = {}
    settings_file = folder / "settings.yaml"
    if settings_file.exists():
        loaded = _read_yaml(settings_file) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{settings_file}: must be a mapping")
        unknown = sorted(set(loaded) - KNOWN_SETTINGS)
        if unknown:
            raise ConfigError(f"{settings_file}: unknown setting(s) {', '.join(unknown)}")
        raw = loaded
    reference: dict[str, Any] = {}
    reference_dir = folder / "reference"
    if reference_dir.is_dir():
        for path in sorted(reference_dir.glob("*.yaml")):
            reference[path.stem] = _read_yaml(path)
    url = os.environ.get("QINGLIU_DATABASE_URL") or _in_home(
        home, str(raw.get("database_url") or DEFAULT_DATABASE_URL), settings_file
    )
    keys = os.environ.get("QINGLIU_KEYS") or within(home, str(raw.get("keys") or DEFAULT_KEYS_DIR))
    blobs = os.environ.get("QINGLIU_BLOBS") or raw.get("blobs_dir")
    if blobs and "QINGLIU_BLOBS" not in os.environ:
        blobs = within(home, str(blobs))
    return Settings(
        config_dir=folder,
        database_url=str(url),
        handlers=str(raw.get("handlers", "handlers")),
        workflows=str(within(home, str(raw.get("workflows", "workflows")))),
        public_base_url=str(raw.get("public_base_url", DEFAULT_PUBLIC_BASE_URL)).rstrip("/"),
        keys_dir=str(keys),
        max_body_bytes=_positive(raw, "max_body_bytes", DEFAULT_MAX_BODY_BYTES, settings_file),
        blobs_dir=str(blobs) if blobs else None,
        log_format=str(os.environ.get("QINGLIU_LOG_FORMAT") or raw.get("log_format") or "text"),
        reference=reference,
        home_problem=problem,
    )


def _in_home(home: Path, url: str, settings_file: Path) -> str:
    """``url`` with a relative SQLite file made relative to the home."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise ConfigError(f"{settings_file}: database_url is not a database URL: {exc}") from exc
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(home / database)).render_as_string(hide_password=False)


def _positive(raw: dict[str, Any], name: str, default: int, path: Path) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: {name} must be a positive whole number of bytes")
    return value


def check_reference(settings: Settings, domain: Domain) -> None:
    """The reference data as the domain checks it (one problem per line, naming file and key);
    any problem is a ConfigError."""
    problems = list(domain.check_reference(settings.reference))
    if problems:
        folder = settings.config_dir / "reference"
        lines = "\n  ".join(problems)
        raise ConfigError(
            f"{folder} has {len(problems)} problem(s) (the home's config folder, engine/home.py):"
            f"\n  {lines}"
        )


def _scope(reference: dict[str, Any]) -> Scope:
    listing = (reference.get("jurisdictions") or {}).get("jurisdictions") or []
    try:
        return Scope({str(j["code"]): j.get("parent") for j in listing})
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"reference/jurisdictions.yaml: each entry needs a code ({exc})") from exc


def _calendar(folder: Path) -> WorkingCalendar:
    path = folder / "calendar.yaml"
    if not path.exists():
        return WorkingCalendar()
    try:
        return WorkingCalendar.from_file(path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _open_store(url: str) -> Store:
    """The store on ``url``; a URL that names no usable database is a ConfigError."""
    try:
        migrate.ensure_folder(url)
        return Store(url)
    except (ArgumentError, ImportError, OSError, ValueError) as exc:  # no driver, folder, port
        shown = url.partition("://")[0] + "://..." if "://" in url else repr(url)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot use database {shown}: {reason} (QINGLIU_DATABASE_URL, or database_url "
            "in the home's config/settings.yaml)"
        ) from exc


def require_home(settings: Settings) -> None:
    """Refuse (ConfigError) when no home was found: before any file is made."""
    if settings.home_problem:
        raise ConfigError(settings.home_problem)


def calendar_of(settings: Settings) -> WorkingCalendar:
    """The working-day calendar of ``settings`` (``config/calendar.yaml``)."""
    return _calendar(settings.config_dir)


def scope_of(settings: Settings) -> Scope:
    """The jurisdictions of ``settings`` (``reference/jurisdictions.yaml``)."""
    return _scope(settings.reference)


def blobs_of(settings: Settings) -> Path:
    """The blob folder: ``blobs_dir`` (or ``QINGLIU_BLOBS``), else ``blobs`` beside an
    embedded SQLite database file, else the home's ``var/blobs``."""
    if settings.blobs_dir:
        return Path(settings.blobs_dir)
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///")).parent / "blobs"
    return settings.home / DEFAULT_BLOBS_DIR


def build_engine(settings: Settings | None = None, clock: Clock | None = None) -> Engine:
    """An engine on the configured database. A new embedded SQLite database is created on
    first use; any other database must be at the schema head (`qingliu db upgrade`). Without
    an injected ``clock`` it keeps the installation's (the logical time, when set)."""
    settings = settings or load_settings()
    require_home(settings)
    domain = load_domain(settings.handlers)
    check_reference(settings, domain)
    store = _open_store(settings.database_url)
    try:
        migrate.check(store, create=store.dialect == "sqlite")
    except BaseException:
        store.dispose()
        raise
    if clock is None:  # the installation's logical clock when one is set (engine.time.logical)
        clock = InstallationClock(store)
        clock.refresh()
    return Engine(
        store,
        domain.registry,
        clock=clock,
        calendar=_calendar(settings.config_dir),
        scope=_scope(settings.reference),
        reference=settings.reference,
        keys=KeyRing(settings.keys_dir),
        blobs=FileBlobStore(blobs_of(settings)),
    )
