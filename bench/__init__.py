"""Benchmark of the pull against a hand-tuned loop, HttpOperator and dlt; see bench/README.md."""
