"""The one error type ingestion raises: its message is written for the admin who fed the source."""


class IngestError(Exception):
    """A source could not become an article; the message says which source and why."""
