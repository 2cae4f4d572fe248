"""Every codereview object, built once per container, and the aliases routes receive them through.

Tests swap a use case with ``app.dependency_overrides[<factory>] = ...``; ``reset_containers()`` rebuilds all.
The review pipeline (stages, GitHub client) loads only when an approval or a workflow step needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from codereview.settings import get_codereview_settings
from stratus.cache import per_container

# Use cases and repositories (PynamoDB, botocore) load in the factories, on the first request, not at cold start.
if TYPE_CHECKING:
    from codereview.feedback import FeedbackService
    from codereview.pipeline import ReviewPipeline
    from codereview.prepared import RunDocuments
    from codereview.registrations import RegistrationService
    from codereview.repository import (
        DeliveryRepository,
        FeedbackRepository,
        RegistrationRepository,
        ReviewRepository,
        RulesRepository,
    )
    from codereview.reviews import ReviewService
    from codereview.rules import RulesService
    from codereview.webhook import WebhookService
    from stratus.flows import StepFunctions


@per_container
def review_repository() -> ReviewRepository:
    from codereview.repository import ReviewRepository

    return ReviewRepository(get_codereview_settings())


@per_container
def rules_repository() -> RulesRepository:
    from codereview.repository import RulesRepository

    return RulesRepository(get_codereview_settings())


@per_container
def registration_repository() -> RegistrationRepository:
    from codereview.repository import RegistrationRepository

    return RegistrationRepository(get_codereview_settings())


@per_container
def delivery_repository() -> DeliveryRepository:
    from codereview.repository import DeliveryRepository

    return DeliveryRepository(get_codereview_settings())


@per_container
def registration_service() -> RegistrationService:
    from codereview.registrations import RegistrationService
    from stratus.secrets import get_secret_store

    return RegistrationService(get_codereview_settings(), registration_repository(), get_secret_store())


@per_container
def webhook_service() -> WebhookService:
    from codereview.webhook import WebhookService
    from stratus.queues import SqsQueue

    queue = SqsQueue(get_codereview_settings().codereview_queue_url)
    return WebhookService(get_codereview_settings(), registration_service(), delivery_repository(), queue)


@per_container
def review_service() -> ReviewService:
    from codereview.reviews import ReviewService

    return ReviewService(review_repository())


@per_container
def rules_service() -> RulesService:
    from codereview.rules import RulesService

    return RulesService(rules_repository())


@per_container
def feedback_repository() -> FeedbackRepository:
    from codereview.repository import FeedbackRepository

    return FeedbackRepository(get_codereview_settings())


@per_container
def feedback_service() -> FeedbackService:
    from codereview.feedback import FeedbackService

    return FeedbackService(get_codereview_settings(), review_repository(), feedback_repository())


@per_container
def run_documents() -> RunDocuments:
    from codereview.prepared import RunDocuments
    from stratus.storage import BlobStore

    return RunDocuments(BlobStore(get_codereview_settings().codereview_bucket))


@per_container
def step_functions() -> StepFunctions:
    from stratus.flows import StepFunctions

    return StepFunctions()


@per_container
def review_pipeline() -> ReviewPipeline:
    from codereview.pipeline import ReviewPipeline

    return ReviewPipeline(
        get_codereview_settings(),
        store=review_repository(),
        rules=rules_service(),
        registrations=registration_service(),
        feedback=feedback_service(),
        documents=run_documents(),
    )


Registrations = Annotated["RegistrationService", Depends(registration_service)]
Webhooks = Annotated["WebhookService", Depends(webhook_service)]
Reviews = Annotated["ReviewService", Depends(review_service)]
Rules = Annotated["RulesService", Depends(rules_service)]
Feedback = Annotated["FeedbackService", Depends(feedback_service)]
Pipeline = Annotated["ReviewPipeline", Depends(review_pipeline)]
