"""The service objects behind the HTTP routes, one per container (the routes stay a few lines each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codereview.feedback import Feedback
from codereview.registrations import Registrations
from codereview.rules import RulesStore
from codereview.settings import get_codereview_settings
from codereview.store import ReviewStore
from codereview.webhook import WebhookReceiver
from stratus.cache import per_container

if TYPE_CHECKING:
    from codereview.pipeline import ReviewPipeline


@per_container
def registrations() -> Registrations:
    return Registrations(get_codereview_settings())


@per_container
def webhook_receiver() -> WebhookReceiver:
    return WebhookReceiver(get_codereview_settings(), registrations())


@per_container
def review_store() -> ReviewStore:
    return ReviewStore(get_codereview_settings())


@per_container
def rules_store() -> RulesStore:
    return RulesStore(get_codereview_settings())


@per_container
def feedback() -> Feedback:
    return Feedback(get_codereview_settings(), review_store())


@per_container
def pipeline() -> ReviewPipeline:
    # The review pipeline (stages, GitHub client) is only needed to approve a held review.
    from codereview.pipeline import ReviewPipeline

    return ReviewPipeline(get_codereview_settings())
