"""The one workload every engine benchmark runs: an approval flow of 6 states in a line.

Five transitions (submit, accept, review, approve, archive), each with one guard on a case-data
field (``amount <= limit``) and one action (``<trigger>_done = True``), a payload
(``{"comment": ...}``) checked against a schema, and case data checked against the definition's
``data_schema`` after every step. The same flow is written once per contestant: as a Qingliu
definition (``DEFINITION``, with the bench-only ``REGISTRY``), as BPMN for SpiffWorkflow
(``bench/approval.bpmn``) and as a bare ``transitions`` machine (``bench/contestants.py``).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from engine.handlers import Actor, Context, Registry

__all__ = [
    "ACTOR",
    "BPMN",
    "DEFINITION",
    "DEFINITION_TIMED",
    "PAYLOAD",
    "REGISTRY",
    "SCOPE_PARENTS",
    "STATES",
    "TRIGGERS",
    "case_data",
    "machine_info",
]

STATES = ["drafted", "submitted", "accepted", "reviewed", "approved", "archived"]
TRIGGERS = ["submit", "accept", "review", "approve", "archive"]
PAYLOAD: dict[str, Any] = {"comment": "同意"}
BPMN = Path(__file__).with_name("approval.bpmn")

# The acting officer sits in the city; cases are filed in one of its counties (scope check).
ACTOR = Actor("bench-officer", "officer", "371500")
SCOPE_PARENTS = {"371502": "371500", "371500": None}

REGISTRY = Registry()


@REGISTRY.guard("amount_within_limit")
def amount_within_limit(ctx: Context) -> bool:
    return int(ctx.data["amount"]) <= int(ctx.data["limit"])


@REGISTRY.action("stamp")
def stamp(ctx: Context) -> None:
    ctx.data[f"{ctx.trigger}_done"] = True


def _transition(trigger: str, source: str, dest: str) -> str:
    return f"""  - trigger: {trigger}
    source: {source}
    dest: {dest}
    roles: [officer]
    guard: amount_within_limit
    actions: [stamp]
    payload_schema:
      type: object
      additionalProperties: false
      properties: {{comment: {{type: string, maxLength: 200}}}}
"""


DEFINITION = """name: bench_approval
title: 基准审批
roles: [officer]
jurisdiction_field: county
data_schema:
  type: object
  required: [applicant, amount, limit, county]
  properties:
    applicant: {type: string, minLength: 1}
    amount: {type: integer, minimum: 0}
    limit: {type: integer, minimum: 0}
    county: {type: string}
initial: drafted
states:
  drafted: {title: 草稿}
  submitted: {title: 已提交}
  accepted: {title: 已受理}
  reviewed: {title: 已审查}
  approved: {title: 已批准}
  archived: {title: 已归档, final: true}
transitions:
""" + "".join(_transition(t, s, d) for t, s, d in zip(TRIGGERS, STATES, STATES[1:], strict=False))


# The same flow with a reminder armed in every non-final state (cancelled on leaving it): the
# engine then also cancels, arms and lists a timer on every transition.
DEFINITION_TIMED = (
    DEFINITION.replace("name: bench_approval", "name: bench_approval_timed")
    + """  - trigger: expire
    source: "*"
    dest: archived
timers:
"""
    + "".join(
        f"  {state}:\n    - {{fires: expire, after: 5 working days}}\n" for state in STATES[:-1]
    )
)


def case_data(n: int) -> dict[str, Any]:
    return {
        "applicant": f"聊城市某污水处理厂{n}",
        "amount": 5000 + n % 1000,
        "limit": 100000,
        "county": "371502",
    }


def machine_info() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
