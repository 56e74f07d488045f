# The two commands: `make demo` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BEAM_VERSION = $(shell grep -i '^apache-beam==' constraints.txt | cut -d= -f3)
PRISM := .tools/bin/prism
# Validates deploy/k8s against the schemas vendored in deploy/k8s/schemas (no network at test time).
KUBECONFORM_VERSION = v0.8.0
KUBECONFORM := .tools/bin/kubeconform

.PHONY: install demo test test-unit stack-up stack-down prism kubeconform clean

$(STAMP): setup.py constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsbeam needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

install: $(STAMP)

# Beam's portable Prism runner, built from Beam's Go module at the SDK's version.
$(PRISM): constraints.txt
	@command -v go >/dev/null || { echo "go not found: install Go to build the Prism runner"; exit 1; }
	GOBIN=$(CURDIR)/.tools/bin go install github.com/apache/beam/sdks/v2/go/cmd/prism@v$(BEAM_VERSION)

prism: $(PRISM)

$(KUBECONFORM): Makefile
	@command -v go >/dev/null || { echo "go not found: install Go to build kubeconform"; exit 1; }
	GOBIN=$(CURDIR)/.tools/bin go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)
	@touch $@

kubeconform: $(KUBECONFORM)

stack-up: install
	bash deploy/local/stack.sh up

stack-down:
	bash deploy/local/stack.sh down
	bash deploy/local/dask.sh down

# The demo's config points at the stack the demo starts: on the ports NEWSBEAM_KAFKA_PORT /
# NEWSBEAM_S3_PORT move it to (deploy/local/common.sh), unless the endpoints are set explicitly.
demo: install
	NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS="$${NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS:-127.0.0.1:$${NEWSBEAM_KAFKA_PORT:-9092}}" \
	NEWSBEAM_S3__ENDPOINT_URL="$${NEWSBEAM_S3__ENDPOINT_URL:-http://127.0.0.1:$${NEWSBEAM_S3_PORT:-8333}}" \
	$(VENV)/bin/newsbeam --config deploy/local/newsbeam.local.yaml demo

# Starts the stack if it is not running, runs every test, and stops the stack only if it started it.
test: install prism kubeconform
	@was_up=0; bash deploy/local/stack.sh status >/dev/null 2>&1 && was_up=1; \
	bash deploy/local/stack.sh up || exit 1; \
	NEWSBEAM_PRISM=$(CURDIR)/$(PRISM) NEWSBEAM_KUBECONFORM=$(CURDIR)/$(KUBECONFORM) \
	  $(PY) -m pytest -q tests $(PYTEST_ARGS); rc=$$?; \
	[ $$was_up = 1 ] || bash deploy/local/stack.sh down; \
	exit $$rc

test-unit: install kubeconform
	NEWSBEAM_KUBECONFORM=$(CURDIR)/$(KUBECONFORM) $(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

clean: stack-down
	rm -rf .stack .tools $(VENV)
