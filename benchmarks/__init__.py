"""Fleet benchmarks for lfv-monitor (issue 7): ``python -m benchmarks.run`` / ``make bench``."""
