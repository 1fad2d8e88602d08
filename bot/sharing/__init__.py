"""Sharing: inline mode, /share, and autocards for article links posted in groups."""
