"""GitHub deliveries reduced to what the review agent acts on (a small, typed envelope for the queue).

``classify`` decides, from the event name and payload alone, whether a delivery is a ping, something to
ignore (with the reason the sender sees), or work for the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stratus.errors import BadRequest

EnvelopeKind = Literal["review", "command", "closed", "review_comment", "thread", "installation"]
REVIEW_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review")
REVIEW_COMMAND = "/review"
# Who may ask for a review with a comment: on a public repository anyone can comment, and reviews cost money.
COMMAND_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
# Every inline comment Stratus posts ends with this marker (see publishing.comment_body).
OWN_COMMENT_MARKER = "<!-- stratus-codereview"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Ref(_Loose):
    sha: str


class _PullRequest(_Loose):
    id: int
    number: int
    title: str = ""
    html_url: str = ""
    state: str = "open"
    draft: bool = False
    merged: bool | None = False
    head: _Ref
    base: _Ref


class _Repository(_Loose):
    id: int
    full_name: str


class _Installation(_Loose):
    id: int


class _Account(_Loose):
    login: str = ""


class _InstallationFull(_Loose):
    id: int
    account: _Account | None = None


class _Reactions(_Loose):
    plus_one: int = Field(default=0, alias="+1")
    minus_one: int = Field(default=0, alias="-1")


class _ReviewComment(_Loose):
    id: int
    in_reply_to_id: int | None = None
    body: str = ""
    reactions: _Reactions | None = None


class _Thread(_Loose):
    comments: list[_ReviewComment] = Field(default_factory=list)


class _IssueRef(_Loose):
    number: int
    pull_request: dict[str, Any] | None = None


class _IssueComment(_Loose):
    id: int
    body: str = ""
    author_association: str = "NONE"


class PullRequestRef(BaseModel):
    id: int
    number: int
    title: str = ""
    url: str = ""
    head_sha: str = ""
    base_sha: str = ""
    merged: bool = False


class CommentRef(BaseModel):
    id: int
    in_reply_to_id: int | None = None
    thumbs_up: int = 0
    thumbs_down: int = 0


class Envelope(BaseModel):
    """What the webhook enqueues: the owner (filled in by the webhook) and the facts of the delivery."""

    kind: EnvelopeKind
    event: str
    action: str | None = None
    delivery_id: str = ""
    tenant_id: str = ""
    registration_id: str = ""
    received_at_ms: int = 0
    repository: str | None = None
    repository_id: int | None = None
    installation_id: int | None = None
    pull_request: PullRequestRef | None = None
    pr_number: int | None = None
    comments: list[CommentRef] = Field(default_factory=list)
    account: str | None = None
    repositories: list[str] = Field(default_factory=list)


class Ignored(BaseModel):
    event: str
    action: str | None = None
    reason: str


class Ping(BaseModel):
    zen: str = ""
    hook_id: int | None = None


def _model[M: BaseModel](model: type[M], value: Any, where: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise BadRequest(f"payload is not a GitHub {where} delivery: {problems}") from exc


def _comment_ref(comment: _ReviewComment) -> CommentRef:
    reactions = comment.reactions or _Reactions()
    return CommentRef(
        id=comment.id,
        in_reply_to_id=comment.in_reply_to_id,
        thumbs_up=reactions.plus_one,
        thumbs_down=reactions.minus_one,
    )


def _base(event: str, payload: dict[str, Any], kind: EnvelopeKind) -> Envelope:
    repository = _model(_Repository, payload.get("repository"), "repository") if "repository" in payload else None
    installation = payload.get("installation")
    return Envelope(
        kind=kind,
        event=event,
        action=payload.get("action"),
        repository=repository.full_name if repository else None,
        repository_id=repository.id if repository else None,
        installation_id=_model(_Installation, installation, "installation").id if installation else None,
    )


def _pull_request(payload: dict[str, Any]) -> PullRequestRef:
    pr = _model(_PullRequest, payload.get("pull_request"), "pull_request")
    return PullRequestRef(
        id=pr.id,
        number=pr.number,
        title=pr.title,
        url=pr.html_url,
        head_sha=pr.head.sha,
        base_sha=pr.base.sha,
        merged=bool(pr.merged),
    )


Classified = Envelope | Ignored | Ping


def _ping(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    hook_id = payload.get("hook_id")
    return Ping(zen=str(payload.get("zen") or ""), hook_id=hook_id if isinstance(hook_id, int) else None)


def _pull_request_event(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    if action == "closed":
        envelope = _base(event, payload, "closed")
        envelope.pull_request = _pull_request(payload)
        return envelope
    if action not in REVIEW_ACTIONS:
        return Ignored(event=event, action=action, reason=f"pull_request action {action!r} needs no review")
    pr = _model(_PullRequest, payload.get("pull_request"), "pull_request")
    if pr.state != "open":
        return Ignored(event=event, action=action, reason="the pull request is not open")
    if pr.draft and action != "ready_for_review":
        return Ignored(event=event, action=action, reason="draft pull requests are reviewed once marked ready")
    envelope = _base(event, payload, "review")
    envelope.pull_request = _pull_request(payload)
    return envelope


def _review_comment_event(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    if action not in ("created", "edited"):
        return Ignored(event=event, action=action, reason=f"review comment action {action!r} carries no feedback")
    review_comment = _model(_ReviewComment, payload.get("comment"), "comment")
    if review_comment.in_reply_to_id is None and OWN_COMMENT_MARKER in review_comment.body:
        return Ignored(event=event, action=action, reason="this is one of Stratus's own review comments")
    envelope = _base(event, payload, "review_comment")
    envelope.pull_request = _pull_request(payload)
    envelope.comments = [_comment_ref(review_comment)]
    return envelope


def _thread_event(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    if action != "resolved":
        return Ignored(event=event, action=action, reason="only resolved threads carry feedback")
    envelope = _base(event, payload, "thread")
    envelope.pull_request = _pull_request(payload)
    thread = _model(_Thread, payload.get("thread"), "thread")
    envelope.comments = [_comment_ref(comment) for comment in thread.comments]
    return envelope


def _command_refusal(issue: _IssueRef, comment: _IssueComment) -> str | None:
    """Why an issue comment is not a /review command we act on; None when it is one."""
    if issue.pull_request is None:
        return "the comment is on an issue, not a pull request"
    first_line = comment.body.strip().splitlines()[0].strip() if comment.body.strip() else ""
    if first_line.split(" ")[0] != REVIEW_COMMAND:
        return "the comment is not a /review command"
    if comment.author_association not in COMMAND_ASSOCIATIONS:
        return "only owners, members and collaborators can ask for a review"
    return None


def _issue_comment_event(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    if action != "created":
        return Ignored(event=event, action=action, reason="only new comments can carry a /review command")
    issue = _model(_IssueRef, payload.get("issue"), "issue")
    comment = _model(_IssueComment, payload.get("comment"), "comment")
    refusal = _command_refusal(issue, comment)
    if refusal is not None:
        return Ignored(event=event, action=action, reason=refusal)
    envelope = _base(event, payload, "command")
    envelope.pr_number = issue.number
    return envelope


def _installation_event(event: str, action: str | None, payload: dict[str, Any]) -> Classified:
    if action not in ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"):
        return Ignored(event=event, action=action, reason=f"installation action {action!r} changes nothing here")
    installation = _model(_InstallationFull, payload.get("installation"), "installation")
    repositories = payload.get("repositories") or []
    return Envelope(
        kind="installation",
        event=event,
        action=action,
        installation_id=installation.id,
        account=installation.account.login if installation.account else None,
        repositories=[str(r.get("full_name")) for r in repositories if isinstance(r, dict) and r.get("full_name")],
    )


_CLASSIFIERS: dict[str, Callable[[str, str | None, dict[str, Any]], Classified]] = {
    "ping": _ping,
    "pull_request": _pull_request_event,
    "pull_request_review_comment": _review_comment_event,
    "pull_request_review_thread": _thread_event,
    "issue_comment": _issue_comment_event,
    "installation": _installation_event,
}


def classify(event: str, payload: dict[str, Any]) -> Classified:
    """What to do with a verified delivery; BadRequest when a handled event lacks the fields it needs."""
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    classifier = _CLASSIFIERS.get(event)
    if classifier is None:
        return Ignored(event=event, action=action, reason=f"event {event!r} is not one the review agent handles")
    return classifier(event, action, payload)
