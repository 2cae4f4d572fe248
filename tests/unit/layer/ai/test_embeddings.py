"""Embedders: unit vectors of the promised size, deterministic hashing, semantic local ONNX, provider errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stratus.ai import Embedder, get_embedder
from stratus.ai.providers.bedrock import BedrockEmbedder
from stratus.ai.providers.hashing import HashEmbedder
from stratus.ai.providers.local import LocalModelMissing, LocalOnnxEmbedder
from stratus.ai.providers.openai import OpenAIEmbedder
from stratus.config.ai import AiSettings
from stratus.errors import UpstreamFailed
from stratus.retry import RetriesExhausted, RetryPolicy

from .conftest import RecordedSleeps
from .fakes import FakeBedrockRuntime, FakeOpenAIClient, FakeOpenAIEmbeddings, bedrock_error

LOCAL_MODEL_DIR = AiSettings().local_model_dir


def cosine(vectors: np.ndarray, a: int, b: int) -> float:
    return float(vectors[a] @ vectors[b])


def test_hash_embeddings_are_deterministic_unit_vectors() -> None:
    # Given two embedders of the same size (as in two processes)
    texts = ["Rotate the API keys every ninety days.", "Invoices are issued monthly.", "x y z"]
    first, second = HashEmbedder(dimensions=128).embed(texts), HashEmbedder(dimensions=128).embed(texts)
    # Then they agree exactly, rows are L2-normalised float32 of the configured size
    assert first.dtype == np.float32 and first.shape == (3, 128)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)


def test_hash_embeddings_put_texts_sharing_words_closer() -> None:
    vectors = HashEmbedder().embed(["rotate the api keys", "how do I rotate api keys", "invoices are monthly"])
    assert cosine(vectors, 0, 1) > cosine(vectors, 0, 2) + 0.3


def test_a_text_without_words_maps_to_the_zero_vector() -> None:
    vectors = HashEmbedder().embed(["", "!!!"])
    assert not vectors.any()


def test_embedding_nothing_gives_an_empty_matrix_of_the_right_width() -> None:
    assert HashEmbedder(dimensions=64).embed([]).shape == (0, 64)


def test_the_factory_builds_the_configured_embedder_once() -> None:
    settings = AiSettings(embedding_provider="hash", embedding_dimensions=96)
    embedder = get_embedder(settings)
    assert isinstance(embedder, Embedder)
    assert embedder is get_embedder(settings)
    assert embedder.dimensions == 96
    assert embedder.embed(["hello"]).shape == (1, 96)


def test_a_missing_local_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LocalModelMissing, match="make embedding-model"):
        LocalOnnxEmbedder(tmp_path)


@pytest.fixture(scope="module")
def local_embedder() -> LocalOnnxEmbedder:
    if not (LOCAL_MODEL_DIR / "model.onnx").is_file():
        reason = f"no ONNX model in {LOCAL_MODEL_DIR}: run `make embedding-model` (or set LOCAL_MODEL_DIR)"
        print(reason)
        pytest.skip(reason)
    return LocalOnnxEmbedder(LOCAL_MODEL_DIR)


def test_local_onnx_embeddings_are_semantic(local_embedder: LocalOnnxEmbedder) -> None:
    # Given a question, a paraphrase of its answer sharing few words, and an unrelated sentence
    texts = [
        "How do I change my password?",
        "You can reset your login credentials from the account settings page.",
        "The quarterly revenue grew by twelve percent.",
    ]
    # When embedded locally
    vectors = local_embedder.embed(texts)
    # Then they are 384-d unit vectors and the paraphrase is much closer than the unrelated text
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert cosine(vectors, 0, 1) > cosine(vectors, 0, 2) + 0.2


def test_local_batching_keeps_input_order_and_long_texts_are_truncated(local_embedder: LocalOnnxEmbedder) -> None:
    texts = ["short", "a much longer sentence about serverless functions " * 80, "medium length text here"]
    together = local_embedder.embed(texts)
    alone = np.vstack([local_embedder.embed([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_bedrock_embedder_retries_throttling_and_normalises(sleeps: RecordedSleeps) -> None:
    # Given Titan throttles the first call
    client = FakeBedrockRuntime(dimensions=256, errors=[bedrock_error("ThrottlingException", 429, retry_after="1")])
    embedder = BedrockEmbedder(client, policy=RetryPolicy(sleep=sleeps), dimensions=256, concurrency=2)
    # When three texts are embedded
    vectors = embedder.embed(["alpha", "beta", "gamma"])
    # Then every text got a unit vector after one wait, and each call asked Titan for the configured size
    assert vectors.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert sleeps == [1.0]
    assert sorted(body["inputText"] for body in client.bodies) == ["alpha", "beta", "gamma"]
    assert {body["dimensions"] for body in client.bodies} == {256}


def test_bedrock_embedder_gives_up_with_a_503(sleeps: RecordedSleeps) -> None:
    client = FakeBedrockRuntime(dimensions=256, errors=[bedrock_error("ThrottlingException", 429)] * 2)
    embedder = BedrockEmbedder(client, policy=RetryPolicy(max_attempts=2, sleep=sleeps), dimensions=256)
    with pytest.raises(RetriesExhausted) as raised:
        embedder.embed(["alpha"])
    assert raised.value.status == 503


def test_openai_embedder_batches_keeps_order_and_normalises(sleeps: RecordedSleeps) -> None:
    embeddings = FakeOpenAIEmbeddings(dimensions=8)
    embedder = OpenAIEmbedder(
        FakeOpenAIClient(embeddings), policy=RetryPolicy(sleep=sleeps), model_id="text-embedding-3-small", batch_size=2
    )
    texts = ["a", "bbbb", "cc", "ddddddd", "e"]
    vectors = embedder.embed(texts)
    assert [len(batch) for batch in embeddings.batches] == [2, 2, 1]
    assert vectors.shape == (5, 8) and embedder.dimensions == 8
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # the fake's vectors depend on the text length: row order must follow the input, not the response
    expected = np.array([[len(t) + j for j in range(8)] for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, rtol=1e-5)


def test_openai_embedder_maps_a_malformed_response_to_502(sleeps: RecordedSleeps) -> None:
    class ShortEmbeddings(FakeOpenAIEmbeddings):
        def create(self, *, model: str, input: list[str], **options: object):  # type: ignore[no-untyped-def]
            return super().create(model=model, input=input[:1])

    embedder = OpenAIEmbedder(
        FakeOpenAIClient(ShortEmbeddings(dimensions=4)), policy=RetryPolicy(sleep=sleeps), model_id="m"
    )
    with pytest.raises(UpstreamFailed, match="1 embeddings for 2 texts"):
        embedder.embed(["a", "b"])
