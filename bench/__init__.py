"""Benchmarks, each measured beside its baseline in the same run.

`make bench` (or `python -m bench`) prints one table: figure, ours, baseline,
ratio, target, met. These machines are noisy, so every figure is a median
over interleaved runs and is judged as a ratio to a baseline measured in the
same run, never as an absolute time.
"""
