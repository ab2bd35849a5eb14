"""Benchmarks, each a module run with `python -m bench.<name>` from the repository root
(`--help` lists its options). The quality benchmark (`bench.quality`) is split by concern:
dataset, metrics, index_cache, passes, report; its figures are in bench/RESULTS.md."""
