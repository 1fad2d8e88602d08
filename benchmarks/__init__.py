"""Benchmarks: the bot against a naive baseline on the in-repo emulator.

`python -m benchmarks` runs every scenario and writes docs/BENCHMARKS.md; each scenario module
also runs on its own (`python -m benchmarks.vote_storm`, `benchmarks.fanout`, `benchmarks.ingest`,
`benchmarks.startup`, `benchmarks.baseline`).
"""
