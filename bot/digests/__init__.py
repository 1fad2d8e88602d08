"""Digests: one message per chat and period listing its articles, made on time and sent through
the delivery ledger."""
