"""What a fresh interpreter (a new Lambda container) has loaded after running some code of the layer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LAYER = Path(__file__).resolve().parents[3] / "layers" / "common"


def loaded_after(code: str, modules: Sequence[str]) -> list[str]:
    """Which of ``modules`` are in ``sys.modules`` once ``code`` ran with only the layer on the path."""
    probe = f"import json, sys\n{code}\nprint(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER), "AWS_REGION": "us-east-1"},
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded
