"""all-MiniLM-L6-v2 as ONNX on onnxruntime + tokenizers: semantic embeddings with no torch and no network.

The model directory comes from ``make embedding-model`` (scripts/build_embedding_model.py): mean pooling
and L2 normalisation are inside the graph, so a run returns finished sentence embeddings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from stratus.config.ai import LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL_ID
from stratus.errors import StratusError


class LocalModelMissing(StratusError):
    """The ONNX model directory is absent or incomplete: a deployment problem, not the caller's."""

    status, title, type_slug = 500, "Local model missing", "local-model-missing"


class LocalOnnxEmbedder:
    MAX_SEQUENCE_LENGTH = 256

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        batch_size: int = 32,
        model_id: str = LOCAL_EMBEDDING_MODEL_ID,
    ) -> None:
        model_path, tokenizer_path = model_dir / "model.onnx", model_dir / "tokenizer.json"
        missing = [path.name for path in (model_path, tokenizer_path) if not path.is_file()]
        if missing:
            raise LocalModelMissing(
                f"{', '.join(missing)} not found in {model_dir}: run `make embedding-model` or set LOCAL_MODEL_DIR"
            )
        self._model_id = model_id
        self._batch_size = batch_size
        self._dimensions = self._manifest_dimensions(model_dir)
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=self.MAX_SEQUENCE_LENGTH)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._session = ort.InferenceSession(
            str(model_path), sess_options=self._session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._input_names = {node.name for node in self._session.get_inputs()}

    @staticmethod
    def _session_options(threads: int) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # A Lambda or a dev box has ~2 vCPUs: one intra-op pool that size, no inter-op pool on top.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return options

    @staticmethod
    def _manifest_dimensions(model_dir: Path) -> int:
        manifest = model_dir / "manifest.json"
        if manifest.is_file():
            return int(json.loads(manifest.read_text()).get("dimensions", LOCAL_EMBEDDING_DIMENSIONS))
        return LOCAL_EMBEDDING_DIMENSIONS

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text, in the order given."""
        output = np.empty((len(texts), self._dimensions), dtype=np.float32)
        # Batching texts of similar length wastes less compute on padding; rows go back in input order.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            output[rows] = self._embed_batch([texts[row] for row in rows])
        return output

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        feeds: dict[str, Any] = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session.run(None, {name: feeds[name] for name in self._input_names})
        return np.asarray(vectors, dtype=np.float32)
