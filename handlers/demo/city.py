"""``qingliu demo``: a realistic Liaocheng in the configured database, to explore.

A seeded generator (the same city every time) screens outfalls across all 11 county-level
units from May 2023, traces their responsible parties, rectifies them at each county's own pace
and lets the timers run (deadlines, escalation ladders) on a simulated clock up to ``END``. Some
counties are late for the Yellow River deadline (2024-06-30), so their escalations climb.
Names come from ``handlers.demo.names`` (as a county writes them, with the rectification modes
that fit each type); the other workflows (retained lists, checks, enforcement, citizens'
reports) from ``handlers.demo.supervision``. At the end the installation's logical clock is
left at ``END`` (``engine.time.logical``), so reports and the server read the city as of then.
Running it again changes nothing: the city is loaded once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.clock import FakeClock
from engine.errors import QingliuError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine, load_settings
from engine.time.logical import set_logical_time
from engine.time.sweep import sweep
from handlers.demo import record_fields, supervision
from handlers.demo.names import MODES, Named, county_eeb_name, name_outfall
from handlers.demo.photos import after_photos
from handlers.demo.plans import PLANS
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = ["DemoResult", "END", "START", "generate", "load_demo"]

SEED = 2023
START = datetime(2023, 5, 4, 1, 0, tzinfo=UTC)  # 09:00 in Liaocheng, after the plan (04-22)
END = datetime(2025, 3, 31, 1, 0, tzinfo=UTC)
LATE_WAVE = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # a new round of screening

# county code: (centre lon/lat, rivers, pace); the outfall codes begin with the county's
# division code from config/reference/jurisdictions.yaml.
# pace: how long rectification takes there (days): prompt, slow (misses 2024-06-30), late.
COUNTIES: dict[str, tuple[float, float, tuple[str, ...], str]] = {
    "dongchangfu": (115.98, 36.45, ("xiaoyunhe", "tuhaihe"), "prompt"),
    "chiping": (116.25, 36.58, ("tuhaihe", "zhaoniuhe"), "prompt"),
    "linqing": (115.70, 36.84, ("weiyunhe", "majiahe"), "slow"),
    "yanggu": (115.79, 36.11, ("huanghe", "jindihe"), "late"),
    "shenxian": (115.67, 36.23, ("jindihe", "majiahe"), "slow"),
    "donge": (116.25, 36.33, ("huanghe", "tuhaihe"), "prompt"),
    "guanxian": (115.44, 36.48, ("weiyunhe", "majiahe"), "late"),
    "gaotang": (116.23, 36.86, ("majiahe", "tuhaihe"), "prompt"),
    "jingkai": (116.05, 36.42, ("xiaoyunhe",), "prompt"),
    "gaoxin": (116.08, 36.50, ("tuhaihe",), "slow"),
    "jiangbei": (115.95, 36.43, ("xiaoyunhe",), "prompt"),
}
PACE_DAYS = {"prompt": (90, 240), "slow": (300, 480), "late": (520, 800)}
SUB_TYPES = (
    ("industrial_enterprise", 5),
    ("park_wwtp", 2),
    ("enterprise_storm", 2),
    ("urban_wwtp", 2),
    ("livestock_large", 2),
    ("aquaculture_small", 1),
    ("irrigation_district", 1),
    ("urban_scattered", 3),
    ("rural_facility", 2),
    ("rural_scattered", 3),
)
ENTRY_MODES = ("明渠", "管道", "管道", "涵闸", "箱涵", "泵站")
# the share of each type found to meet the standard already: traced as not needing rectification
# (无需整治), and kept (保留) when on its county's retained list of May 2023 (三(三))
COMPLIANT = {"urban_wwtp": 0.5, "park_wwtp": 0.6, "industrial_enterprise": 0.15}


@dataclass
class DemoResult:
    created: bool
    outfalls: int
    steps: int = 0
    refused: list[str] = field(default_factory=list)
    timers_fired: int = 0
    cases: list[tuple[str, str, int]] = field(default_factory=list)  # workflow, state, count


@dataclass(frozen=True)
class Planned:
    record: dict[str, Any]
    found: datetime
    pace: str
    named: Named


def _actors(reference: Any, county: str) -> tuple[Actor, Actor]:
    name = ref.jurisdiction_name(reference, county)
    unit = ref.jurisdiction(reference, county)
    gov = f"{name}管理委员会" if unit and unit.get("level") == "zone" else f"{name}人民政府"
    eeb = Actor(county_eeb_name(name), "county_eeb", county)
    return eeb, Actor(gov, "county_gov", county)


def city_department(reference: Any, code: str) -> str:
    """A city department's name as people read it: 聊城 + its name in departments.yaml."""
    department = ref.department(reference, code)
    return f"聊城{department['name']}" if department else code


def generate(reference: Any, rng: random.Random) -> list[Planned]:
    """The demo outfalls: 5 or 6 per county-level unit screened in 2023, and in some counties
    one more found in early 2025 (新增排污口: still being traced at the end). Deterministic for
    a given seed."""
    kinds = [code for code, weight in SUB_TYPES for _ in range(weight)]
    planned: list[Planned] = []
    names: set[str] = set()
    for county in COUNTIES:
        count = rng.choice((5, 6))
        for seq in range(1, count + 1):
            # the first two were on the county's books already: on its list filed in May 2023
            days = rng.randint(0, 6) if seq <= 2 else rng.randint(7, 120)
            found = START + timedelta(days=days)
            item = _outfall(reference, rng, county, seq, rng.choice(kinds), found, names)
            planned.append(item)
        if rng.random() < 0.4:
            found = LATE_WAVE + timedelta(days=rng.randint(0, 75))
            item = _outfall(reference, rng, county, count + 1, rng.choice(kinds), found, names)
            planned.append(item)
    return planned


def _outfall(
    reference: Any,
    rng: random.Random,
    county: str,
    seq: int,
    sub: str,
    found: datetime,
    names: set[str],
) -> Planned:
    lon, lat, rivers, pace = COUNTIES[county]
    prefix = ref.division_code(reference, county) or ""
    name = ref.jurisdiction_name(reference, county)
    spec = ref.sub_type(reference, sub)
    named = name_outfall(rng, county, name, sub)
    while named.name in names:  # two outfalls of a county never share a name
        named = name_outfall(rng, county, name, sub)
    names.add(named.name)
    record = {
        "code": f"{prefix}-{spec['no'] if spec else 15:02d}-{seq:03d}",
        "local_code": f"LC{prefix[-3:]}{seq:03d}",
        "name": named.name,
        "sub_type": sub,
        "county": county,
        "address": f"聊城市{name}{rng.choice('东西南北')}{rng.randint(1, 30)}号",
        "longitude": round(lon + rng.uniform(-0.06, 0.06), 5),
        "latitude": round(lat + rng.uniform(-0.05, 0.05), 5),
        "river": rng.choice(rivers),
        "entry_mode": rng.choice(ENTRY_MODES),
        "setup_basis": "legacy",
        "found_at": found.date().isoformat(),
    }
    return Planned(record | record_fields.record_fields(reference, record), found, pace, named)


class _Story:
    """Schedules every step at its moment and plays them in time order, firing the timers
    that fall due in between."""

    def __init__(self, engine: Engine, clock: FakeClock, rng: random.Random) -> None:
        self.engine, self.clock, self.rng = engine, clock, rng
        self.ledger = Ledger(engine)
        self.city = Actor(city_department(engine.reference, "eeb_city"), "eeb_city", "liaocheng")
        self.steps: list[tuple[datetime, int, Callable[[], None], str]] = []
        self.result = DemoResult(created=True, outfalls=0)
        self.active: dict[str, list[str]] = {}  # county -> outfalls merged targets may use
        self.modes: dict[str, str] = {}  # outfall code -> the rectification mode it will get

    def at(self, when: datetime, what: str, step: Callable[[], None]) -> None:
        if when <= END:
            self.steps.append((when, len(self.steps), step, what))

    def case_of(self, workflow: str, code: str) -> int | None:
        ids = [c.id for c in self.ledger.get(code).cases if c.workflow == workflow and c.is_open]
        return ids[-1] if ids else None

    def fire(self, workflow: str, code: str, trigger: str, actor: Actor, **payload: Any) -> None:
        case_id = self.case_of(workflow, code)
        if case_id is None:
            raise _Skip(f"{code}: no open {workflow} case for {trigger}")
        self.engine.fire(case_id, trigger, actor, payload)

    def play(self) -> None:
        for when, _, step, what in sorted(self.steps, key=lambda s: (s[0], s[1])):
            self._sweep(when)
            self.clock.set(when)
            try:
                step()
                self.result.steps += 1
            except (QingliuError, _Skip) as exc:
                self.result.refused.append(f"{what}: {exc}")
        self._sweep(END)
        self.clock.set(END)

    def _sweep(self, when: datetime) -> None:
        self.clock.set(max(self.clock.now(), when))
        self.result.timers_fired += sweep(self.engine, when).count("fired")


class _Skip(Exception):
    pass


def _plan_outfall(story: _Story, item: Planned) -> None:
    rng, record, code = story.rng, item.record, item.record["code"]
    eeb, gov = _actors(story.engine.reference, record["county"])
    story.at(item.found, f"{code} screened", lambda: _add(story, record, eeb))
    traced = item.found + timedelta(days=rng.randint(15, 60))
    roll = rng.random()
    if roll < 0.08:
        return  # still being traced
    sub = record["sub_type"]
    lost = 0.08 if sub in ("urban_wwtp", "park_wwtp") else 0.2  # a plant's operator is known
    if roll < lost:
        story.at(traced, f"{code} untraceable", lambda: _untraceable(story, code, gov))
    else:
        party, needs = item.named.party, (roll - lost) / (1 - lost) >= COMPLIANT.get(sub, 0)
        story.at(traced, f"{code} traced", lambda: _identify(story, code, eeb, party, needs))
        if not needs:  # meets the standard: no rectification case, only its setup basis
            story.modes[code] = "compliant"
    mode = story.modes.get(code) or _plan_rectification(story, item, traced, eeb, gov)
    if mode != "ban":
        _plan_setup(story, item, traced + timedelta(days=rng.randint(20, 90)), eeb)


def _add(story: _Story, record: dict[str, Any], actor: Actor) -> None:
    story.ledger.add(record, actor)
    story.result.outfalls += 1
    story.active.setdefault(record["county"], []).append(record["code"])


def _identify(story: _Story, code: str, eeb: Actor, party: str, needs: bool = True) -> None:
    story.fire(
        "responsibility", code, "identify", eeb, responsible_party=party, needs_rectification=needs
    )


def _untraceable(story: _Story, code: str, gov: Actor) -> None:
    story.fire("responsibility", code, "untraceable", gov, needs_rectification=True)


def _plan_rectification(
    story: _Story, item: Planned, traced: datetime, eeb: Actor, gov: Actor
) -> str:
    rng, code = story.rng, item.record["code"]
    weights = MODES.get(item.record["sub_type"], (6, 3, 2))
    mode = rng.choices(("regularise", "ban", "merge"), weights=weights)[0]
    story.modes[code] = mode
    chosen = traced + timedelta(days=rng.randint(10, 40))
    story.at(chosen, f"{code} mode", lambda: _choose(story, item, mode, eeb))
    low, high = PACE_DAYS[item.pace]
    done = chosen + timedelta(days=rng.randint(low, high))
    if mode == "ban":
        order = chosen + timedelta(days=rng.randint(7, 20))
        story.at(order, f"{code} ban order", lambda: _ban_order(story, code, gov))
    story.at(done, f"{code} complete", lambda: _complete(story, code, eeb))
    pre = done + timedelta(days=rng.randint(5, 20))
    story.at(pre, f"{code} pre-close", lambda: story.fire("rectification", code, "pre_close", gov))
    delist = pre + timedelta(days=rng.randint(7, 30))
    story.at(delist, f"{code} de-listed", lambda: _delist(story, item))
    return mode


def _delist(story: _Story, item: Planned) -> None:
    """The sector department co-signs first where the sub-type has one (四(二)), then 销号."""
    code, reference = item.record["code"], story.engine.reference
    departments = sectors.cosign_departments(reference, item.record["sub_type"])
    if departments:
        found = ref.department(reference, departments[0]) or {}
        signer = Actor(str(found.get("name")), str((found.get("roles") or [""])[0]), "liaocheng")
        story.fire("rectification", code, "sector_cosign", signer, opinion="同意销号")
    story.fire("rectification", code, "approve_delisting", story.city)


def _plan_setup(story: _Story, item: Planned, applied: datetime, eeb: Actor) -> None:
    """Retained outfalls get their setup basis: a retroactive permit (补办) where approval is
    required (decided by the city approval bureau), registration (登记) elsewhere."""
    rng, record = story.rng, item.record
    code, county, sub = record["code"], record["county"], record["sub_type"]
    needs_approval = ref.approval_required(story.engine.reference, sub)
    if rng.random() > (0.7 if needs_approval else 0.3):
        return
    data = {"outfall_code": code, "county": county, "sub_type": sub, "kind": "retroactive"}
    data |= {"eia_level": "city", "river": record["river"]}
    applicant = Actor(item.named.applicant, "applicant", county)
    story.at(
        applied,
        f"{code} applies",
        lambda: story.engine.create_case("setup_approval", data, applicant, subject=code),
    )
    if not needs_approval:
        registered = applied + timedelta(days=rng.randint(3, 10))
        filed = f"{ref.jurisdiction_name(story.engine.reference, county)[0]}环登〔{applied.year}〕"
        number = f"{filed}{int(code[-3:])}号"
        story.at(
            registered,
            f"{code} registered",
            lambda: _setup(story, code, "register", eeb, decision_number=number),
        )
        return
    bureau = Actor(
        city_department(story.engine.reference, "approval_city"), "approval_bureau", "liaocheng"
    )
    accepted = applied + timedelta(days=rng.randint(2, 5))
    story.at(accepted, f"{code} accepted", lambda: _setup(story, code, "accept", bureau))
    number = f"聊审批排污〔{applied.year}〕{int(code[-3:])}号"
    decided = accepted + timedelta(days=rng.randint(10, 25))

    def approve() -> None:  # by the authority acceptance routed it to
        case_id = story.case_of("setup_approval", code)
        decider = supervision.setup_decider(story.engine, case_id, bureau)
        _setup(story, code, "approve", decider, decision_number=number)

    story.at(decided, f"{code} approved", approve)


def _setup(story: _Story, code: str, trigger: str, actor: Actor, **payload: Any) -> None:
    story.fire("setup_approval", code, trigger, actor, **payload)


def _choose(story: _Story, item: Planned, mode: str, eeb: Actor) -> None:
    code, county = item.record["code"], item.record["county"]
    payload: dict[str, Any] = {"mode": mode}
    if mode == "merge":
        targets = [c for c in story.active.get(county, []) if c != code]
        kept = [c for c in targets if story.modes.get(c) == "regularise"]  # into a kept one
        target = next((c for c in kept + targets if _in_service(story, c)), None)
        payload = {"mode": "merge", "merged_into": target} if target else {"mode": "regularise"}
    story.fire("rectification", code, "choose_mode", eeb, **payload)


def _in_service(story: _Story, code: str) -> bool:
    record = story.ledger.get(code).record
    return record.get("status") == "active" and record.get("rectification_status") != "done"


def _ban_order(story: _Story, code: str, gov: Actor) -> None:
    number = f"{gov.name[:3]}取缔〔{story.clock.now().year}〕{code[-3:]}号"
    story.fire("rectification", code, "issue_ban_order", gov, ban_decision_number=number)


def _complete(story: _Story, code: str, eeb: Actor) -> None:
    case_id = story.case_of("rectification", code)
    state = story.engine.get_case(case_id).state if case_id else ""
    extra: dict[str, Any] = {}
    if state == "regularising":
        extra["standardisation"] = {"signboard": True, "sampling_point": True, "qr_code": True}
    elif state == "merge_metering":  # meters first, then the drainage joins (三(四)4)
        record = story.ledger.get(code).record
        unit = str(record.get("responsible_party") or record.get("name") or code)
        metering = [{"unit": unit, "device": f"JL-{code}", "location": "汇入口前"}]
        story.fire("rectification", code, "install_metering", eeb, metering=metering)
    # the photos are uploaded once `complete` is what the case waits for (an upload needs it)
    evidence = after_photos(story.engine, eeb, code, case_id)
    story.fire("rectification", code, "complete", eeb, evidence=evidence, **extra)


def load_demo(settings: Settings | None = None, seed: int = SEED) -> DemoResult:
    """Load the demo city into the configured database (once)."""
    settings = settings or load_settings()
    clock = FakeClock(START)
    engine = build_engine(settings, clock=clock)
    try:
        engine.load([settings.workflows])
        ledger = Ledger(engine)
        rng = random.Random(seed)
        planned = generate(engine.reference, rng)
        if _loaded(ledger, planned):
            return DemoResult(created=False, outfalls=ledger.count())
        story = _Story(engine, clock, rng)
        for item in planned:
            _plan_outfall(story, item)
        for more in PLANS:  # the supervision around the outfalls, one driver per concern
            more(story, planned)
        story.play()
        # the installation's clock stays at the simulated date (qingliu time clear resets it)
        set_logical_time(engine, END, Actor("qingliu demo", "system"))
        with engine.store.read() as tx:
            counts = tx.count_cases(("workflow", "state"))
        story.result.cases = [(str(w), str(s), n) for (w, s), n in counts]
        return story.result
    finally:
        engine.store.dispose()


def _loaded(ledger: Ledger, planned: list[Planned]) -> bool:
    codes = {p.record["code"] for p in planned}
    return any(v.code in codes for v in ledger.list())
