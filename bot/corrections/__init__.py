"""Corrections and retractions: /update and /retract, the preview and its Confirm, the runner
that carries them to every copy of an article, and what they say."""
