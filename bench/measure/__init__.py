"""Hand-run measurements (not tests, no assertions): each prints figures for one mechanism on this
machine, `python -m bench.measure.<name>`. Their numbers are quoted in the docs/ page of the area
they measure; `python -m bench` is the benchmark suite proper."""
