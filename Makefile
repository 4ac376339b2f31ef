# openeks — two commands: `make up` starts the service, `make test` runs the suite.
# Both create .venv and install the Debian and Python dependencies when missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBS := etcd-server runc busybox-static docker-registry skopeo util-linux iproute2
DATA_DIR ?= .openeks

.PHONY: up test bench lint debs setup clean

setup: debs $(VENV)/.installed

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

up: setup
	$(BIN)/openeks up --data-dir $(DATA_DIR)

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/pytest -q -m slow
	$(BIN)/python bench/apiserver.py
	$(BIN)/python bench/rbac.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/podstart.py
	$(BIN)/python bench/cluster.py
	$(BIN)/python bench/dataplane.py

clean:
	rm -rf $(VENV) build *.egg-info
