"""Running the bot: start and stop, webhook mode, workers, the update ledger, background tasks."""
