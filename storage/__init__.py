"""The database: engine, tables, queries and migrations; nothing else touches SQL."""
