# nsmigrate: the two commands that matter are `make demo` and `make test`.
SHELL := bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export GOTOOLCHAIN := local

.PHONY: demo test setup binaries binaries-demo packages deploy image-lint lint unit e2e bench bench-quick bench-peer dev-up dev-down constraints clean

demo: setup binaries-demo ## the seed migration on a fresh local control plane (builds only what it runs)
	$(BIN)/nsmigrate demo

test: setup binaries packages lint ## lint, type checks and the whole test suite (unit + end to end)
	$(BIN)/pytest

setup: $(VENV)/.installed ## virtual environment at .venv/ with the package (editable) and dev tools

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $@

binaries: ## build (or find) every binary the tests use: the control plane, kwok, CoreDNS, helm, kube-proxy, kubectl, promtool
	bash webhook/dev/build.sh all

binaries-demo: ## build (or find) what the demo runs, no more; honours KUBEBUILDER_ASSETS
	bash webhook/dev/build.sh demo

packages: ## the Debian packages the tests use (nft, ip; dot): installed as root, named otherwise
	bash webhook/dev/packages.sh

deploy: setup binaries ## re-render deploy/nsmigrate.yaml from the chart
	$(BIN)/python -m webhook.dev.chart deploy/nsmigrate.yaml

image-lint: setup ## lint the Dockerfile (no container engine runs here)
	$(BIN)/hadolint Dockerfile

lint: setup
	$(BIN)/ruff check webhook tests bench
	$(BIN)/ruff format --check webhook tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

unit: setup
	$(BIN)/pytest --ignore=tests/e2e

e2e: setup binaries
	$(BIN)/pytest tests/e2e

bench: setup binaries ## full benchmarks (100,000 objects, Kyverno beside), results in bench/results.json and docs/
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev,bench]'
	bash webhook/dev/build.sh kyverno
	$(BIN)/python -m bench.run --full --peer
	$(BIN)/python -m bench.plot
	$(BIN)/python -m bench.fuzz --count 100000  # 0 HTTP 500, 0 non-idempotent patches, or it fails
	$(BIN)/python -m bench.sustained --rate 500 --seconds 60  # 0 errors, p50 / p99

bench-quick: setup binaries ## the same measurements at smaller sizes, without the peer, into bench/results-quick.json (under three minutes; CI runs it)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.fuzz --count 5000
	$(BIN)/python -m bench.sustained --rate 500 --seconds 10

bench-peer: setup binaries ## the quick sizes with Kyverno v1.19.1 beside nsmigrate (built once from the Go module proxy)
	bash webhook/dev/build.sh kyverno
	$(BIN)/python -m bench.run --peer

dev-up: setup binaries
	$(BIN)/nsmigrate dev up

dev-down: setup
	$(BIN)/nsmigrate dev down

constraints: ## re-pin every dependency to what .venv has now
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
