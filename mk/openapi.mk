# OpenAPI: one spec per service app behind the HTTP API, checked in under docs/openapi/.
# tests/contract/test_openapi.py fails when a spec is stale; regenerate with `make openapi` and commit.

.PHONY: openapi

openapi: $(STAMP) ## Write docs/openapi/<service>.json for every service in template.yaml
	$(PY) scripts/export_openapi.py
