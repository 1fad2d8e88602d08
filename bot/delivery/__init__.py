"""Delivery of articles and broadcasts to every subscribed chat: the ledger-driven engine."""
