"""The baselines: two bots the real one is measured against, in the same run.

The naive bot (naive_bot.py) is written the way python-telegram-bot's examples teach: it commits
one vote per update and edits every copy of the poll on every vote. The periodic bot
(periodic_bot.py) follows the pattern of the most used open-source inline poll bot: it edits the
tapped copy at once and every other copy from a job every 10 s. Both broadcast with a plain loop
over every subscriber, all through `AIORateLimiter`, on the same emulator and scenarios as the
real bot: their figures are the denominators of the ratios in docs/BENCHMARKS.md.
"""
