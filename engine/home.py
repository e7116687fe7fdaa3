"""The home folder: where an installation keeps its settings, workflows and data.

A home is a folder holding ``config/settings.yaml`` (with ``config/calendar.yaml`` and
``config/reference/*.yaml``), ``workflows/`` and ``var/`` (the SQLite database, ``var/blobs``,
``var/keys``). ``qingliu init DIR`` writes one; the repository's root is one.

It is looked up in this order, and the first place given decides:

1. ``qingliu --home DIR ...`` (exported to the environment as ``QINGLIU_HOME``, so that the
   worker processes of ``serve --workers N`` find the same home);
2. ``QINGLIU_HOME``;
3. ``QINGLIU_CONFIG``, the legacy name of the config folder: its parent is the home, but the
   relative paths of its settings stay relative to the working directory, as before the home
   (``engine.settings.load_settings``; a folder without ``settings.yaml`` keeps the defaults);
4. the working directory, when it holds ``config/settings.yaml``.

A place that is given but holds no home is a ``ConfigError``. When nothing is given and the
working directory holds no home, :func:`locate` answers ``Located.problem``: commands that need
the database refuse with it (``engine.settings.build_engine``), the others keep the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "HOME_ENV",
    "Located",
    "command_from_argv",
    "home_from_argv",
    "locate",
    "use_home_option",
]

HOME_ENV = "QINGLIU_HOME"
CONFIG_ENV = "QINGLIU_CONFIG"
SETTINGS_FILE = Path("config") / "settings.yaml"

_option: Path | None = None  # the --home of this process, if any


@dataclass(frozen=True)
class Located:
    """Where the settings are: ``home`` and its ``config_dir``, and who named it (``source``).
    Without a home, ``problem`` is the refusal (the places looked at, how to make one)."""

    home: Path
    config_dir: Path
    source: str
    problem: str | None = None


def use_home_option(folder: str | Path) -> None:
    """``--home DIR``: this process's home, and its children's (through ``QINGLIU_HOME``)."""
    global _option
    _option = Path(folder).expanduser().absolute()
    os.environ[HOME_ENV] = str(_option)


def home_from_argv(argv: Sequence[str]) -> str | None:
    """The ``--home`` among the group's own options (those before the command's name), read
    before click parses: the domain's commands are added from the settings it names."""
    return _group_words(argv)[0]


def command_from_argv(argv: Sequence[str]) -> str | None:
    """The name of the command ``argv`` runs (the first word after the group's options)."""
    return _group_words(argv)[1]


def _group_words(argv: Sequence[str]) -> tuple[str | None, str | None]:
    words, found, index = list(argv), None, 0
    while index < len(words):
        word = words[index]
        if word == "--":
            return found, words[index + 1] if index + 1 < len(words) else None
        if not word.startswith("-"):
            return found, word  # the command's name: options after it are the command's
        if word == "--home":
            found = words[index + 1] if index + 1 < len(words) else None
            index += 1
        elif word.startswith("--home="):
            found = word.removeprefix("--home=")
        index += 1
    return found, None


def _explicit(folder: Path, source: str) -> Located:
    if not (folder / SETTINGS_FILE).is_file():
        hint = f"`qingliu init {folder}` makes one" if not folder.exists() else "is it a home?"
        raise ConfigError(f"{source} names {folder}, which holds no {SETTINGS_FILE} ({hint})")
    return Located(folder, folder / "config", source)


def locate() -> Located:
    """The home, looked up in the order above."""
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        folder = Path(from_env).expanduser().absolute()
        source = "--home" if _option is not None and folder == _option else HOME_ENV
        return _explicit(folder, source)
    config = os.environ.get(CONFIG_ENV)
    if config:
        config_dir = Path(config).expanduser().absolute()
        if not config_dir.is_dir():
            raise ConfigError(
                f"{CONFIG_ENV} names {config_dir}, which is not a folder (it names a home's "
                f"config folder; {HOME_ENV} names the home itself)"
            )
        return Located(config_dir.parent, config_dir, CONFIG_ENV)
    cwd = Path.cwd()
    if (cwd / SETTINGS_FILE).is_file():
        return Located(cwd, cwd / "config", "the working directory")
    problem = (
        "no Qingliu home found. Looked at: --home (not given); "
        f"{HOME_ENV} (not set); {CONFIG_ENV} (not set); the working directory {cwd} "
        f"(no {SETTINGS_FILE}). Make one with `qingliu init DIR`, then run "
        f"`qingliu --home DIR ...` or set {HOME_ENV}=DIR"
    )
    return Located(cwd, cwd / "config", "nowhere", problem)


def within(home: Path, path: str) -> Path:
    """``path`` of the settings file: relative to the home, not to the working directory."""
    given = Path(path).expanduser()
    return given if given.is_absolute() else home / given
