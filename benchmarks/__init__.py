"""Scale benchmarks: ``python -m benchmarks [--quick] [--json PATH]`` from the repository root.

Builds (and caches under ``benchmarks/.cache/``) demo workspaces of 10k, 100k and 1M runs and
measures every figure next to a raw baseline taken in the same run on the same rows. Not part of
the test suite. See ``benchmarks/README.md`` for what each figure and its baseline mean.
"""
