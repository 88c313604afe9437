# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test eval bench index browser clean-index ragas

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

test: install browser
	$(PY) -m pytest -q

# ragas conflicts with the app's langchain pins: it lives in its own folder, used only by the evaluation.
RAGAS_SITE := eval/runs/ragas-site
$(RAGAS_SITE)/.stamp: eval/requirements-ragas.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --target $(RAGAS_SITE) -r eval/requirements-ragas.txt
	@touch $@

ragas: install $(RAGAS_SITE)/.stamp

eval: install ragas
	$(PY) -m eval
	$(PY) -m eval.generality
	$(PY) -m eval.obligations_eval

bench: install
	$(PY) eval/bench.py

clean-index:
	rm -rf index
