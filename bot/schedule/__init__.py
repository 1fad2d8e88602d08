"""Scheduled actions: reading `at WHEN`, /queue, and running what fell due."""
