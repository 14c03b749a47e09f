"""Benchmarks that print figures; run by hand (`python -m bench.throughput`), never in CI."""
