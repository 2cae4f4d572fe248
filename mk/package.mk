# Packaging, included by the main Makefile: one lock for the dev venv and every layer, and the proof that every
# function fits Lambda's 250 MiB (function code plus its layers, unzipped).
#
# requirements.lock is resolved by uv for Lambda's platform (linux arm64, glibc 2.28 wheels, CPython 3.12) from
# layers/*/requirements.txt; the dev venv installs with `-c requirements.lock` and so does each layer build
# (layers/layer.mk), so the tests run exactly the versions that deploy.

LOCK := requirements.lock
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.8
LOCK_STAMP := $(LOCK_VENV)/.uv-$(UV_VERSION).stamp
# --no-cached: sam's cache keys a layer on its folder only, not on requirements.lock or scripts/build_layer.py.
# The layers are built for arm64 (template.yaml); the import proof needs a second build this machine can run.
IMPORT_PROOF_ARCH := x86_64
IMPORT_PROOF_BUILD_DIR := .aws-sam/build-$(IMPORT_PROOF_ARCH)

.PHONY: lock package-check

$(LOCK_STAMP):
	$(PYTHON312) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	touch $@

lock: $(LOCK_STAMP) ## Re-resolve requirements.lock from layers/*/requirements.txt (uv, Lambda arm64 / CPython 3.12)
	$(LOCK_VENV)/bin/uv pip compile --quiet --python-platform aarch64-manylinux_2_28 --python-version 3.12 \
		--custom-compile-command "make lock" --output-file $(LOCK) $(sort $(LAYER_REQUIREMENTS))

package-check: $(STAMP) $(SAM_STAMP) analyst-sample ## sam build, sizes against Lambda's limit, ruff, import proof
	@start=$$(date +%s); \
	PATH="$(SAM_BUILD_PATH)" $(SAM) build --no-cached && \
	PATH="$(SAM_BUILD_PATH)" LAYER_ARCH=$(IMPORT_PROOF_ARCH) $(SAM) build --no-cached --build-dir $(IMPORT_PROOF_BUILD_DIR) && \
	$(PY) scripts/package_check.py --build-dir .aws-sam/build --import-build-dir $(IMPORT_PROOF_BUILD_DIR) \
		--started-at $$start
