"""The review stages: syntax (parsers and ruff), logic (model or offline heuristics), security (rules and model)."""
