"""A province at scale: Shandong's 16 cities and ~180 county-level units, with ``--cases``
cases, a tenth as many outfalls in the ledger and their history, written in bulk.

    .venv/bin/python -m bench.province --cases 10000 [--home /tmp/province-10000]
        [--backend sqlite|postgresql] [--pg-url URL]

The home gets ``config/`` (``settings.yaml`` naming the database, the keys and the blobs;
``reference/`` with a generated ``jurisdictions.yaml`` - the province, 聊城 with its real 11
units and 15 more cities of 11-12 generated units with 6-digit 行政区划-style codes - and the
other reference files copied from ``config/reference``), ``keys/``, ``blobs/`` and, on SQLite,
``province.db``. On PostgreSQL the tables go into a schema ``province_<cases>`` of the server
(``--pg-url``, default the shared one of ``.ci/postgres.sh url``), dropped first if present.

The histories are the demo city's (``handlers.demo``: the real flows driven through
``Engine.fire``), stamped out by ``bench/province_templates.py``: each outfall is a copy of a
demo outfall with its cases in its own county, plus closed outfall cases and county cases up to
ten cases an outfall (closed ones drawn by their length). Rows are written with ``sqlite3``
``executemany`` or psycopg's ``COPY`` in batches, with the per-case hash chain and the keyed
global chain computed as the engine computes them, the head signed last; then the logical clock
is set to the demo's end through the engine, so ``qingliu audit verify`` and ``qingliu replay``
pass on the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, make_url, select, text, update
from sqlalchemy.pool import NullPool

from bench.province_templates import CaseTemplate, Templates, read_templates, render
from engine.audit import HISTORY_KEY
from engine.handlers import Actor
from engine.keys import KeyRing
from engine.settings import build_engine, load_settings
from engine.store import migrate
from engine.store._chain import GENESIS, genesis, head_mac, link
from engine.store.repository import Store
from engine.store.tables import definitions, history_head
from engine.time.logical import set_logical_time
from handlers.demo.city import END, load_demo

ROOT = Path(__file__).resolve().parent.parent
CITIES = (  # code, name, the first 4 digits of its division code
    ("jinan", "济南市", "3701"),
    ("qingdao", "青岛市", "3702"),
    ("zibo", "淄博市", "3703"),
    ("zaozhuang", "枣庄市", "3704"),
    ("dongying", "东营市", "3705"),
    ("yantai", "烟台市", "3706"),
    ("weifang", "潍坊市", "3707"),
    ("jining", "济宁市", "3708"),
    ("taian", "泰安市", "3709"),
    ("weihai", "威海市", "3710"),
    ("rizhao", "日照市", "3711"),
    ("linyi", "临沂市", "3713"),
    ("dezhou", "德州市", "3714"),
    ("binzhou", "滨州市", "3716"),
    ("heze", "菏泽市", "3717"),
)
CASES_PER_OUTFALL = 10
BATCH = 20_000  # cases per write
COLUMNS = {
    "cases": "id definition_id workflow workflow_version state data version subject "
    "jurisdiction is_open last_hash created_at updated_at subject_unique",
    "events": "id case_id seq kind trigger transition from_state to_state actor role "
    "jurisdiction payload patch at due_at prev_hash hash gseq ghash",
    "timers": "case_id name trigger state deadline due_at status payload catch_up every "
    "provisional created_at fired_at base_at duration remaining_seconds "
    "remaining_working_days",
    "case_parties": "case_id party relation",
    "subjects": "kind key jurisdiction data created_at updated_at",
    "subject_events": "subject_kind subject_key seq change actor role jurisdiction patch at "
    "gseq ghash",
}
TIMER_KEYS = COLUMNS["timers"].split()[1:]


def jurisdictions() -> list[dict[str, Any]]:
    """The province's units: 聊城's as config/reference has them, 15 more cities generated."""
    base = yaml.safe_load((ROOT / "config/reference/jurisdictions.yaml").read_text("utf-8"))
    units = list(base["jurisdictions"])
    for i, (code, name, prefix) in enumerate(CITIES):
        units.append(
            {
                "code": code,
                "name": name,
                "level": "city",
                "parent": "shandong",
                "division_code": prefix + "00",
            }  # fmt: skip
        )
        for n in range(2, 2 + (12 if i < 4 else 11)):
            units.append(
                {
                    "code": f"{code}{n:02d}",
                    "name": f"{name}第{n - 1}区",
                    "level": "county",
                    "parent": code,
                    "division_code": f"{prefix}{n:02d}",
                }  # fmt: skip
            )
    return units


def make_home(home: Path, database_url: str) -> Path:
    """The province's config folder under ``home``."""
    config = home / "config"
    if config.exists():
        shutil.rmtree(config)
    shutil.copytree(ROOT / "config", config)
    doc = "# Generated by bench/province.py: Shandong, 16 cities, ~180 county-level units.\n"
    body = yaml.safe_dump({"jurisdictions": jurisdictions()}, allow_unicode=True, sort_keys=False)
    (config / "reference/jurisdictions.yaml").write_text(doc + body, "utf-8")
    settings = {
        "database_url": database_url,
        "handlers": "handlers",
        "workflows": str(ROOT / "workflows"),
        "keys": str(home / "keys"),
        "blobs_dir": str(home / "blobs"),
    }
    (config / "settings.yaml").write_text(yaml.safe_dump(settings), "utf-8")
    return config


def _demo(home: Path) -> Templates:
    """The demo city in ``home/template``, read back as templates (with its blobs copied)."""
    tpl = home / "template"
    shutil.rmtree(tpl, ignore_errors=True)
    config = tpl / "config"
    shutil.copytree(ROOT / "config", config)
    settings = {
        "database_url": f"sqlite:///{tpl / 'demo.db'}",
        "workflows": str(ROOT / "workflows"),
        "keys": str(tpl / "keys"),
        "blobs_dir": str(home / "blobs"),  # the copies name the same photos
    }
    (config / "settings.yaml").write_text(yaml.safe_dump(settings), "utf-8")
    load_demo(load_settings(config))
    engine = build_engine(load_settings(config))
    try:
        units = engine.reference["jurisdictions"]["jurisdictions"]
        counties = [u["code"] for u in units if u["level"] in ("county", "zone")]
        return read_templates(engine, counties)
    finally:
        engine.store.dispose()


class Writer:
    """Rows into the province's tables: ``sqlite3`` executemany or psycopg COPY."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.conn.execute("PRAGMA synchronous=OFF")
            self.pg = False
        else:
            import psycopg

            u = make_url(url)
            self.conn = psycopg.connect(
                host=u.host, port=u.port, user=u.username, password=u.password,
                dbname=u.database, options=u.query.get("options", ""),
            )  # fmt: skip
            self.pg = True

    def write(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = COLUMNS[table].split()
        quoted = ", ".join(f'"{c}"' for c in cols)
        if self.pg:
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            self.conn.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.conn.commit()

    def finish(self) -> None:
        if self.pg:
            with self.conn.cursor() as cur:
                for table in ("cases", "events", "timers", "subject_events"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                cur.execute("ANALYZE")
        else:
            self.conn.execute("ANALYZE")
        self.conn.commit()
        self.conn.close()


class Province:
    """The generation: outfalls, cases, history rows and the chains over them."""

    def __init__(self, templates: Templates, units: list[dict[str, Any]], key: bytes) -> None:
        self.t, self.key = templates, key
        self.counties = [u for u in units if u["level"] in ("county", "zone")]
        self.rng = random.Random(20)
        self.gseq, self.gprev = 0, genesis(key, hashlib.sha256().hexdigest())
        self.case_id = self.event_id = 0
        self.serial: dict[str, int] = {}
        self.weights = [len(c.events) for c in templates.closed]
        self.rows: dict[str, list[Sequence[Any]]] = {name: [] for name in COLUMNS}
        self.counts = dict.fromkeys(COLUMNS, 0)

    def _chain(self, digest: str) -> tuple[int, str]:
        self.gseq += 1
        self.gprev = link(self.key, self.gseq, self.gprev, digest)
        return self.gseq, self.gprev

    def outfall(self, i: int, def_ids: dict[tuple[str, int], int]) -> int:
        """Outfall ``i`` with its ledger history and its cases; the number of cases."""
        unit = self.counties[i % len(self.counties)]
        code, city = unit["code"], unit["parent"]
        template = self.t.outfalls[i % len(self.t.outfalls)]
        n = self.serial[code] = self.serial.get(code, 0) + 1
        new = f"{unit['division_code']}-{template.code[7:9]}-{n:04d}"
        values = {"J": code, "Y": city, "O": new}
        for static, juris, patch, body in template.changes:
            gseq, ghash = self._chain(hashlib.sha256(render(body, values).encode()).hexdigest())
            self.rows["subject_events"].append((
                "outfall", new, static["seq"], static["change"], static["actor"],
                static["role"], render(juris, values) if juris else None,
                render(patch, values), static["at"], gseq, ghash,
            ))  # fmt: skip
        first, last = template.changes[0][0]["at"], template.changes[-1][0]["at"]
        self.rows["subjects"].append(
            ("outfall", new, code, render(template.data, values), first, last)
        )
        todo: list[tuple[CaseTemplate, str]] = [(c, "") for c in template.cases]
        while len(todo) < CASES_PER_OUTFALL:
            if self.rng.random() < 0.8 or not self.t.county:
                todo.append((self.rng.choices(self.t.closed, self.weights)[0], ""))
            else:
                todo.append((self.rng.choice(self.t.county), "~"))
        for case, suffix in todo[:CASES_PER_OUTFALL]:
            self.case(case, values, suffix, def_ids)
        return min(len(todo), CASES_PER_OUTFALL)

    def case(
        self,
        t: CaseTemplate,
        values: dict[str, str],
        suffix: str,
        def_ids: dict[tuple[str, int], int],
    ) -> None:
        self.case_id += 1
        cid = self.case_id
        v = {**values, "C": str(cid)}
        prev = GENESIS
        events = self.rows["events"]
        for e in t.events:
            h = hashlib.sha256((prev + render(e.body, v)).encode()).hexdigest()
            gseq, ghash = self._chain(h)
            self.event_id += 1
            s = e.static
            events.append((
                self.event_id, cid, s["seq"], s["kind"], s["trigger"], s["transition"],
                s["from_state"], s["to_state"], s["actor"], s["role"],
                render(e.jurisdiction, v) if e.jurisdiction else None,
                render(e.payload, v), render(e.patch, v), s["at"], s["due_at"], prev, h,
                gseq, ghash,
            ))  # fmt: skip
            prev = h
        s = t.static
        subject = render(t.subject, v) if t.subject else None
        if subject and suffix:  # one of many copies in the county: a subject of its own
            subject = f"{subject}{suffix}{cid}"
        self.rows["cases"].append((
            cid, def_ids[t.definition], t.workflow, s["workflow_version"], s["state"],
            render(t.data, v), s["version"], subject, render(t.jurisdiction, v) or None,
            s["is_open"], prev, s["created_at"], s["updated_at"], s["subject_unique"],
        ))  # fmt: skip
        for timer in t.timers:
            row = [cid, *(timer[k] for k in TIMER_KEYS)]
            row[TIMER_KEYS.index("payload") + 1] = render(timer["payload"], v)
            self.rows["timers"].append(row)
        self.rows["case_parties"].extend((cid, party, rel) for party, rel in t.parties)

    def flush(self, writer: Writer) -> None:
        for table in ("subjects", "subject_events", "cases", "events", "timers", "case_parties"):
            writer.write(table, self.rows[table])
            self.counts[table] += len(self.rows[table])
            self.rows[table] = []
        writer.commit()


def _pg_url(given: str | None, schema: str) -> str:
    server = (
        given
        or subprocess.run(
            ["bash", str(ROOT / ".ci/postgres.sh"), "url"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    query = {"options": f"-csearch_path={schema}"}
    return make_url(server).update_query_dict(query).render_as_string(hide_password=False)


def generate(
    cases: int, home: Path, backend: str = "sqlite", pg_url: str | None = None
) -> dict[str, Any]:
    """Generate the province in ``home``; its figures (rows, seconds, rows/s)."""
    home.mkdir(parents=True, exist_ok=True)
    for old in ("province.db", "province.db-wal", "province.db-shm", "keys", "blobs"):
        path = home / old
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    if backend == "sqlite":
        url = f"sqlite:///{home / 'province.db'}"
    else:
        url = _pg_url(pg_url, f"province_{cases}")
    config = make_home(home, url)
    started = time.perf_counter()
    templates = _demo(home)
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    settings = load_settings(config)
    engine = build_engine(settings)
    engine.load([settings.workflows])
    with engine.store.read() as tx:
        rows = tx.conn.execute(select(definitions.c.id, definitions.c.name, definitions.c.version))
        def_ids = {(str(n), int(v)): int(i) for i, n, v in rows}
    engine.store.dispose()
    key = KeyRing(settings.keys_dir).get(HISTORY_KEY)
    province = Province(templates, settings.reference["jurisdictions"]["jurisdictions"], key)
    writer = Writer(url)
    made, i, shown = 0, 0, time.perf_counter()
    t0 = time.perf_counter()
    while made < cases:
        made += province.outfall(i, def_ids)
        i += 1
        if province.case_id % BATCH < CASES_PER_OUTFALL or made >= cases:
            province.flush(writer)
            if time.perf_counter() - shown > 5 or made >= cases:
                shown = time.perf_counter()
                rate = (province.counts["events"] + made) / (shown - t0)
                print(
                    f"  {made:>9,} cases  {province.counts['events']:>11,} events  "
                    f"{i:>8,} outfalls  {rate:>9,.0f} rows/s",
                    flush=True,
                )
    writer.finish()
    _seal(url, key, province)
    engine = build_engine(load_settings(config))
    set_logical_time(engine, END, Actor("bench.province", "system"))
    engine.store.dispose()
    seconds = time.perf_counter() - started
    total = sum(province.counts.values())
    return {
        "cases": province.case_id,
        "outfalls": i,
        "events": province.counts["events"],
        "subject_events": province.counts["subject_events"],
        "timers": province.counts["timers"],
        "rows": total,
        "seconds": round(seconds, 1),
        "rows_per_s": round(total / seconds),
        "database_url": make_url(url).render_as_string(hide_password=True),
        "config": str(config),
    }


def _seal(url: str, key: bytes, province: Province) -> None:
    """Move the head of the global chain to the last row written, signed with the key."""
    store = Store(url)
    try:
        with store.write() as tx:
            tx.conn.execute(
                update(history_head)
                .where(history_head.c.id == 1)
                .values(
                    gseq=province.gseq,
                    hash=province.gprev,
                    mac=head_mac(key, province.gseq, province.gprev),
                    updated_at=END,
                )
            )
    finally:
        store.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args(argv)
    home = args.home or Path(f"/tmp/province-{args.backend}-{args.cases}")
    figures = generate(args.cases, home, args.backend, args.pg_url)
    for name, value in figures.items():
        print(f"{name:<16} {value}")
    print(json.dumps({"bench": "province_generate", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
