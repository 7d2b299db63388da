# Two commands on a fresh machine: `make run` and `make test` (README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv bench models k8s-configmap clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

# The main job on embedded defaults: SQLite in ./var, the shipped ENSATSD policy, the demo roster.
run: venv
	$(BIN)/crossingguard run

# The whole suite (unit, addon, end-to-end). Uses both cores.
test: venv
	$(BIN)/python -m pytest -n 2 -q

bench: venv
	$(BIN)/python bench/run_all.py

# Retrain the shipped classifier models from ../shared/data (see classifiers/models/README.md).
models: venv
	$(BIN)/crossingguard train
	$(BIN)/python -m pytest -q -m slow tests/classifiers/test_reproduce_models.py

# The Kubernetes ConfigMap is rendered from the shipped policy (the suite checks they agree).
k8s-configmap:
	$(PYTHON) deploy/kubernetes/render_configmap.py > deploy/kubernetes/configmap.yaml

clean:
	rm -rf $(VENV) var .pytest_cache
