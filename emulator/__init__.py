"""A local Telegram Bot API server that behaves like Telegram: for tests, demo, benchmarks."""
