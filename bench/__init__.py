"""Benchmarks of the privacy sidecar against stock Presidio; see bench/README.md."""
