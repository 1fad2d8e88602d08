"""Readers' preferences: /settings with its buttons, /timezone and /quiet, for a private chat,
a group (its admins) or a channel (its admins, from a private chat)."""
