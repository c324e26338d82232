# One task runner: `make test`, `make lint`, `make fix`, `make bench`.
PY ?= python

.PHONY: test unit integration lint fix typecheck bench test-data

test: test-data
	$(PY) -m pytest

unit:
	$(PY) -m pytest tests/unit

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

# Llama 3.2's chat template and Llama 3's vocab-only GGUF, taken from the
# llama-cpp-python sdist on PyPI (cached; nothing is committed).
test-data:
	$(PY) tests/fetch_test_data.py

bench:
	$(PY) bench/chat_overhead.py
	$(PY) bench/summarize_long.py
