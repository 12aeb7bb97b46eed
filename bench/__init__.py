"""Settle benchmarks: `python -m bench --mode quick|full` (`make bench-quick`, `make bench`).

Every scenario runs the real processes as users start them, next to baselines measured in the same
run on the same machine (a bare grpc.aio chain and the same SQL through asyncpg alone), and reports
throughput, latency, CPU per operation and peak memory per process. See docs/benchmarks.md.
"""
