"""SpiffWorkflow 3.x on the workload, persisted as a server handling one call per step must.

Each step is one transaction on the same SQLite file (same pragmas as Qingliu's store): SELECT
the case's serialized workflow, deserialize it with ``BpmnWorkflowSerializer``, complete the
ready user task with the payload, run the engine steps (exclusive gateway = guard, script task =
action), serialize it and UPDATE the row. The BPMN spec is parsed once (``bench/approval.bpmn``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, func, insert, select, update

from bench.extra import missing_message
from bench.workload import BPMN, PAYLOAD, TRIGGERS, case_data
from engine.store.repository import make_engine

try:  # the bench extra (bench/extra.py)
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState
except ImportError as exc:
    raise SystemExit(missing_message((exc.name or "SpiffWorkflow").split(".")[0])) from exc

__all__ = ["SpiffPersisted"]

_metadata = MetaData()
spiff_cases = Table(
    "bench_spiff_cases",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow", Text, nullable=False),
    Column("step", Integer, nullable=False),
)


class SpiffPersisted:
    name = "SpiffWorkflow persisted"
    persisted = True

    def __init__(self, url: str) -> None:
        # Qingliu's pragmas, and BEGIN IMMEDIATE for every transaction, as the store's writes.
        self.engine = make_engine(url).execution_options(qingliu_write=True)
        _metadata.create_all(self.engine)
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec("bench_approval")
        self.serializer = BpmnWorkflowSerializer()
        self.ids: list[int] = []
        self.json_bytes = 0

    def create(self, n: int) -> None:
        for i in range(n):
            workflow = BpmnWorkflow(self.spec)
            workflow.do_engine_steps()
            self._ready(workflow, "submit").data.update(case_data(i))
            text = self.serializer.serialize_json(workflow)
            with self.engine.begin() as conn:
                result = conn.execute(insert(spiff_cases).values(workflow=text, step=0))
            self.ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]

    @staticmethod
    def _ready(workflow: BpmnWorkflow, trigger: str) -> Any:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) != 1 or ready[0].task_spec.name != f"task_{trigger}":
            raise RuntimeError(f"expected the user task {trigger!r}, found {ready}")
        return ready[0]

    def fire_all(self, step: int) -> None:
        trigger = TRIGGERS[step]
        for case_id in self.ids:
            with self.engine.begin() as conn:
                text = conn.execute(
                    select(spiff_cases.c.workflow).where(spiff_cases.c.id == case_id)
                ).scalar_one()
                workflow = self.serializer.deserialize_json(text)
                task = self._ready(workflow, trigger)
                task.data.update(PAYLOAD)
                task.run()
                workflow.do_engine_steps()
                if workflow.is_completed() != (step + 1 == len(TRIGGERS)):
                    raise RuntimeError(f"case {case_id} did not advance past {trigger!r}")
                text = self.serializer.serialize_json(workflow)
                conn.execute(
                    update(spiff_cases)
                    .where(spiff_cases.c.id == case_id)
                    .values(workflow=text, step=step + 1)
                )
        self.json_bytes = len(text.encode("utf-8")) if self.ids else 0

    def finished(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).where(
                spiff_cases.c.id.in_(self.ids), spiff_cases.c.step == len(TRIGGERS)
            )
            return int(conn.execute(query).scalar_one())

    def close(self) -> None:
        self.engine.dispose()
