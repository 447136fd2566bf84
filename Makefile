# The two quick-start commands: `make run` (install and open the demo) and `make test`.
.PHONY: run test lint bench

run:
	./scripts/bootstrap.sh --desktop
	./scripts/run-demo.sh

test:
	./scripts/bootstrap.sh
	./scripts/run-tests.sh

lint:
	.venv/bin/ruff check flowdesk tests benchmarks
	.venv/bin/lint-imports

bench:
	.venv/bin/python -m benchmarks --quick
