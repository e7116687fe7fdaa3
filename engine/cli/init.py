"""``qingliu init DIR``: a new home folder (engine/home.py), ready for ``qingliu --home DIR``.

It writes ``config/settings.yaml`` (every setting, each with its comment; mode 0640),
``config/calendar.yaml`` and ``config/reference/`` and ``workflows/`` copied from the domain
package's template, and ``var/``, ``var/keys``, ``var/blobs`` (mode 0700). The template is
``<domain package>/skeleton/`` in an installed wheel (setup.py copies the repository's
``config/`` and ``workflows/`` there when it builds one), else the source checkout the domain
package is imported from (an editable install): the files exist once in git.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import click

from engine.errors import ConfigError
from engine.home import HOME_ENV, SETTINGS_FILE

__all__ = ["SETTINGS_TEMPLATE", "init", "template_folder"]

DOMAIN_PACKAGE = "handlers"

# Every key of engine.settings.KNOWN_SETTINGS, with the value its default means (a test
# checks both): a new setting is added here too.
SETTINGS_TEMPLATE = """\
# Qingliu settings of this home (written by `qingliu init`; docs/deployment.md).
# Relative paths below are relative to the home (the folder holding config/), never to the
# working directory. Find the home with `qingliu --home DIR ...` or QINGLIU_HOME=DIR.

# The database. An embedded SQLite file (created on first use), or PostgreSQL:
#   postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME  (then `qingliu db upgrade`)
# QINGLIU_DATABASE_URL in the environment wins (a relative SQLite file there is relative
# to the working directory).
database_url: sqlite:///var/qingliu.db

# The domain package (a Python package whose domain() returns the Domain): guards, actions,
# reference checks and the domain's commands (ledger, report, demo ...).
handlers: handlers

# The folder of workflow definitions that `qingliu load` and `qingliu serve` load.
workflows: workflows

# The HTTP API as agencies and the public reach it: outfall QR codes point at records under it.
public_base_url: http://localhost:8000

# Keys kept outside the database (sealed confidential fields, the audit chain's key): back
# them up apart from the database. QINGLIU_KEYS in the environment wins.
keys: var/keys

# The largest HTTP request body (JSON or YAML) in bytes; larger ones are answered 413.
max_body_bytes: 1048576

# Evidence files (photos, PDFs), named by SHA-256 (docs/attachments.md). Back the folder up
# with the database. QINGLIU_BLOBS in the environment wins.
blobs_dir: var/blobs

# The log lines of `qingliu serve` and `qingliu scheduler`: text, or json (one object a line
# with a request id; docs/operations.md). QINGLIU_LOG_FORMAT in the environment wins.
log_format: text
"""


def template_folder(package: str = DOMAIN_PACKAGE) -> Path:
    """The folder holding the template ``config/`` and ``workflows/`` of ``package``."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigError(f"the domain package {package} is not installed")
    where = Path(spec.origin).parent
    for candidate in (where / "skeleton", where.parent):
        if (candidate / SETTINGS_FILE).is_file() and (candidate / "workflows").is_dir():
            return candidate
    raise ConfigError(
        f"no template config/ and workflows/ beside the domain package {where} (neither "
        f"{where / 'skeleton'} nor a source checkout): reinstall qingliu"
    )


def _refusal(folder: Path, force: bool) -> str | None:
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder"
    if (folder / SETTINGS_FILE).exists():
        return (
            f"{folder} already holds a home ({SETTINGS_FILE}): nothing written. Use it with "
            f"`qingliu --home {folder} ...`"
        )
    if folder.is_dir() and any(folder.iterdir()) and not force:
        return f"{folder} is not empty: nothing written (--force writes into it all the same)"
    return None


def _private_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def write_home(folder: Path, template: Path) -> None:
    """The files and folders of a new home in ``folder`` (see the module's docstring)."""
    config = folder / "config"
    (config / "reference").mkdir(parents=True, exist_ok=True)
    settings = folder / SETTINGS_FILE
    settings.write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    settings.chmod(0o640)
    calendar = template / "config" / "calendar.yaml"
    if calendar.is_file():
        shutil.copyfile(calendar, config / "calendar.yaml")
    for path in sorted((template / "config" / "reference").glob("*.yaml")):
        shutil.copyfile(path, config / "reference" / path.name)
    source = template / "workflows"
    for path in sorted(source.rglob("*.yaml")):
        target = folder / "workflows" / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for private in ("var", "var/keys", "var/blobs"):
        _private_folder(folder / private)


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--force", is_flag=True, help="write into a folder that is not empty")
def init(folder: str, force: bool) -> None:
    """Write a new home in FOLDER: config/ (settings, calendar, reference data), workflows/
    and var/ (database, keys, blobs; private). Refuses a folder that already holds a home, and
    a folder that is not empty unless --force."""
    target = Path(folder).expanduser().absolute()
    refusal = _refusal(target, force)
    if refusal:
        raise ConfigError(refusal)
    template = template_folder()
    write_home(target, template)
    flows = sum(1 for _ in (target / "workflows").glob("*.yaml"))
    click.echo(f"a Qingliu home in {target}: config/, workflows/ ({flows} flows), var/")
    shown = _shown(target)
    click.echo("next:")
    click.echo(f"  qingliu --home {shown} validate {shown}/workflows")
    click.echo(f"  qingliu --home {shown} demo     # optional: the demo city")
    click.echo(f"  qingliu --home {shown} serve    # http://127.0.0.1:8000")
    click.echo(f"or set {HOME_ENV}={shown} and leave out --home; settings: {shown}/{SETTINGS_FILE}")


def _shown(path: Path) -> str:
    """``path`` as the user may type it: relative to the working directory when inside it."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else os.curdir
