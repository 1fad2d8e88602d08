"""A local Telegram Bot API server that behaves like Telegram, for tests, the demo and benchmarks."""
