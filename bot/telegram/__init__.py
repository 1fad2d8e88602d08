"""Telegram plumbing: transport, errors, the send limiter, callback data, deep links."""
