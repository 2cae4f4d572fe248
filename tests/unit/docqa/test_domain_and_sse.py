"""Pure parts of docqa: identifiers, object keys, file names, SSE framing and Accept negotiation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docqa.answering import AnswerCompleted, AnswerEvent, AnswerStarted, AnswerToken
from docqa.documents import clean_filename
from docqa.domain import Citation, document_id_of_key, is_id, new_id, object_key
from stratus.web.sse import format_event, wants_event_stream

tenants = st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True)


@given(tenant=tenants)
def test_an_object_key_handed_out_maps_back_to_its_tenant_and_document(tenant: str) -> None:
    document_id = new_id("doc")

    assert document_id_of_key(f"{tenant}/{object_key(document_id)}") == (tenant, document_id)


@pytest.mark.parametrize(
    "key",
    [
        "tenant-a/documents/doc-xyz",
        "tenant-a/documents/conv-0123456789abcdef01234567",
        "tenant-a/reports/doc-0123456789abcdef01234567",
        "tenant-a/documents/doc-0123456789abcdef01234567/extra",
        "doc-0123456789abcdef01234567",
    ],
)
def test_keys_docqa_did_not_hand_out_are_not_documents(key: str) -> None:
    assert document_id_of_key(key) is None


def test_ids_name_their_kind_and_sort_by_creation() -> None:
    first, second = new_id("conv"), new_id("conv")

    assert is_id(first, "conv") and not is_id(first, "doc")
    assert first < second or first[:17] == second[:17]  # same millisecond: random tail decides


@pytest.mark.parametrize(
    ("given_name", "cleaned"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        ("bad\x00name\n.txt", "badname.txt"),
        ("", "document"),
        (None, "document"),
        ("a" * 300 + ".pdf", ("a" * 300 + ".pdf")[-255:]),
    ],
)
def test_uploaded_file_names_keep_only_a_safe_last_component(given_name: str | None, cleaned: str) -> None:
    assert clean_filename(given_name) == cleaned


@pytest.mark.parametrize(
    ("accept", "streams"),
    [
        ("text/event-stream", True),
        ("application/json, text/event-stream;q=0.9", True),
        ("TEXT/EVENT-STREAM; charset=utf-8", True),
        ("text/event-stream;q=0", False),
        ("application/json", False),
        ("*/*", False),
        (None, False),
    ],
)
def test_only_an_explicit_accept_of_event_stream_streams(accept: str | None, streams: bool) -> None:
    assert wants_event_stream(accept) is streams


def test_sse_frames_carry_id_event_and_one_json_data_line() -> None:
    frame = format_event("token", {"text": "line one\nline two"}, 7).decode()

    assert frame.endswith("\n\n")
    lines = frame.strip().split("\n")
    assert lines[:2] == ["id: 7", "event: token"]
    assert len(lines) == 3 and json.loads(lines[2].removeprefix("data: ")) == {"text": "line one\nline two"}


def test_an_answer_stream_encodes_to_numbered_frames_in_order(docqa_env: None) -> None:
    from docqa.app import answer_frames  # the app reads its settings when imported

    citation = Citation(1, "doc-0123456789abcdef01234567", 69, "c1", 3, 0.5, "413 Request Entity Too Large")
    events: list[AnswerEvent] = [
        AnswerStarted("conv-1", "msg-1", "What is 413?", 5),
        AnswerToken("It "),
        AnswerToken("means too large [1]."),
        AnswerCompleted(
            "conv-1",
            "msg-1",
            "msg-2",
            "What is 413?",
            "What is 413?",
            "It means too large [1].",
            (citation,),
            {"offline": True},
        ),
    ]

    frames = [frame.decode() for frame in answer_frames(events)]

    assert [f.split("\n")[1] for f in frames] == ["event: started", "event: token", "event: token", "event: done"]
    assert [f.split("\n")[0] for f in frames] == ["id: 0", "id: 1", "id: 2", "id: 3"]
    done = json.loads(frames[-1].split("\n")[2].removeprefix("data: "))
    assert done["citations"][0]["page"] == 69 and done["offline"] is True and "type" not in done
