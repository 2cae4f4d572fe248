"""stratus.flows.ProgressLog on the orchestrator's table: gapless sequence numbers, ordered publishing, replay."""

from __future__ import annotations

import threading
from typing import Any

from stratus.flows import ProgressLog
from stratus.local.embedded import EmbeddedAws


class RecordingPublisher:
    """What subscribers of each topic would receive, in delivery order."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def publish(self, tenant_id: str, topic: str, message: dict[str, Any]) -> int:
        with self._lock:
            self.delivered.append((tenant_id, topic, message))
        return 1


def progress_log(aws: EmbeddedAws, publisher: RecordingPublisher, **options: Any) -> ProgressLog:
    return ProgressLog(aws.physical_name("OrchestratorTable"), publisher, **options)


def test_parallel_writers_get_gapless_numbers_and_subscribers_receive_them_in_order(aws: EmbeddedAws) -> None:
    # Given two logs on the same table, as two Lambda containers would hold
    publisher = RecordingPublisher()
    logs = [progress_log(aws, publisher), progress_log(aws, publisher)]

    # When six writers append 10 events each to one run at the same time
    def write(writer: int) -> None:
        for number in range(10):
            logs[writer % 2].append("t1", "run-1", "tick", {"writer": writer, "n": number})

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the run has events 1..60, each writer's in its own order, and subscribers got exactly those, in order
    stored = logs[0].events("t1", "run-1", limit=1000)
    assert [event.seq for event in stored] == list(range(1, 61))
    for writer in range(6):
        assert [e.data["n"] for e in stored if e.data["writer"] == writer] == list(range(10))
    assert [message for _, _, message in publisher.delivered] == [event.as_dict() for event in stored]
    assert {(tenant, topic) for tenant, topic, _ in publisher.delivered} == {("t1", "run-1")}
    assert logs[1].last_seq("t1", "run-1") == 60


def test_a_keyed_event_is_stored_once_and_runs_and_tenants_are_separate(aws: EmbeddedAws) -> None:
    publisher = RecordingPublisher()
    log = progress_log(aws, publisher)

    # Given a keyed event, appended again as a retried step would
    first = log.append("t1", "run-2", "plan.created", {"round": 1}, key="Plan@2024-01-01T00:00:00Z")
    again = progress_log(aws, publisher).append(
        "t1", "run-2", "plan.created", {"round": 1}, key="Plan@2024-01-01T00:00:00Z"
    )

    # Then it exists once, published once; other runs and tenants number their own events from 1
    assert again == first and first.seq == 1
    assert len(publisher.delivered) == 1
    assert log.append("t1", "run-3", "x").seq == 1
    assert log.append("t2", "run-2", "x").seq == 1
    assert [e.seq for e in log.events("t1", "run-2")] == [1]
    assert log.events("t1", "run-2", after=1) == []

    # And deleting a run removes every item of it
    assert log.delete_run("t1", "run-2") >= 3  # event, key, head
    assert log.events("t1", "run-2") == [] and log.last_seq("t1", "run-2") == 0


def test_an_event_whose_writer_died_before_publishing_is_taken_over(aws: EmbeddedAws) -> None:
    # Given a writer that stored event 2 and died before publishing it (an hour ago, on a fake clock)
    publisher = RecordingPublisher()
    now = [1_000_000.0]
    log = progress_log(aws, publisher, clock=lambda: now[0], stale_after_s=30)
    log.append("t1", "run-4", "first")
    aws.client("dynamodb").put_item(  # the claim alone, as the dead writer left it in the table
        TableName=aws.physical_name("OrchestratorTable"),
        Item={
            "pk": {"S": ProgressLog.partition("t1", "run-4")},
            "sk": {"S": "EV#000000000002"},
            "kind": {"S": "orphan"},
            "at": {"S": "2024-01-01T00:00:00.000Z"},
            "data": {"S": "{}"},
            "written_at": {"N": str(now[0])},
        },
    )
    now[0] += 3600

    # When the next event is appended
    event = log.append("t1", "run-4", "third")

    # Then the orphan was published in its place and the new event follows it
    assert event.seq == 3
    assert [message["type"] for _, _, message in publisher.delivered] == ["first", "orphan", "third"]


def test_logs_on_two_tables_in_one_process_keep_their_events_apart(aws: EmbeddedAws) -> None:
    from stratus.flows.progress import EventItem
    from stratus.storage import bind_model

    # Given progress logs on two services' tables in one process, as on the local stack
    publisher = RecordingPublisher()
    orchestrator_table, codereview_table = aws.physical_name("OrchestratorTable"), aws.physical_name("CodeReviewTable")
    orchestrator_log = ProgressLog(orchestrator_table, publisher)
    codereview_log = ProgressLog(codereview_table, publisher)

    # When both record events of a run with the same id
    orchestrator_log.append("t1", "run-shared", "orchestrator.event", {})
    codereview_log.append("t1", "run-shared", "codereview.event", {})
    codereview_log.append("t1", "run-shared", "codereview.event", {})

    # Then each table holds its own events, numbered from 1, because each table has its own item class
    assert [e.type for e in orchestrator_log.events("t1", "run-shared")] == ["orchestrator.event"]
    assert [(e.seq, e.type) for e in codereview_log.events("t1", "run-shared")] == [
        (1, "codereview.event"),
        (2, "codereview.event"),
    ]
    bound = bind_model(EventItem, orchestrator_table, per_table=True)
    assert bound is bind_model(EventItem, orchestrator_table, per_table=True)
    assert bound is not bind_model(EventItem, codereview_table, per_table=True)
    assert bound.Meta.table_name == orchestrator_table
