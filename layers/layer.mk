# Included by layers/<name>/Makefile: `sam build` (BuildMethod: makefile) runs `make build-<LayerLogicalId>` with
# ARTIFACTS_DIR set, in a scratch copy of the layer's folder, so paths here are taken from this file's location.
# A layer lists its lower layers in BASE_LAYERS: what they ship is left out (each package ships once per function).

REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
# Lambda's arm64 runtime; `make package-check` builds a second time with LAYER_ARCH=x86_64 for the import proof.
LAYER_ARCH ?= aarch64
LAYER_GLIBC_MINOR ?= 28
LAYER_PYTHON ?= $(firstword $(wildcard $(REPO)/.venv/bin/python) python3)

BUILD_LAYER = $(LAYER_PYTHON) $(REPO)/scripts/build_layer.py --lock $(REPO)/requirements.lock \
	--arch $(LAYER_ARCH) --glibc-minor $(LAYER_GLIBC_MINOR) --artifacts "$(ARTIFACTS_DIR)" \
	$(foreach base,$(BASE_LAYERS),--base $(REPO)/layers/$(base)/requirements.txt)
