"""The baseline: a naive bot written the way python-telegram-bot's examples teach.

It commits one vote per update and edits every copy of the poll on every vote, and broadcasts
with a plain loop over every subscriber, all through `AIORateLimiter`. It runs on the same
emulator, with the same scenario, in the same run as the real bot: its figures are the
denominators of the ratios in docs/BENCHMARKS.md.
"""
