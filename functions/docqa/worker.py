"""The ingest worker: S3 ObjectCreated notifications from SQS, each record ingested on its own.

Powertools batch processing reports failed records only (``ReportBatchItemFailures``), so one bad
document never re-drives its batch mates; a record that keeps failing reaches the DLQ after the queue's
``maxReceiveCount``, and on that last attempt the document is marked ``failed`` with the reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from docqa.ingestion import MalformedNotification
from docqa.settings import get_docqa_settings
from docqa.wiring import ingestion_service
from stratus.observability import instrument_handler, logger

processor = BatchProcessor(event_type=EventType.SQS)


def ingest_record(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    final_attempt = receives >= get_docqa_settings().docqa_ingest_max_receives
    try:
        outcomes = ingestion_service().ingest_notification(record.body, final_attempt=final_attempt)
    except MalformedNotification as error:
        logger.error("dropping a message that is not an S3 notification", extra={"detail": str(error)})
        return
    logger.info("ingested", extra={"message_id": record.message_id, "outcomes": outcomes})


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=ingest_record, processor=processor, context=context)
    return dict(response)
