"""The article domain: articles as plain values, their ingestion from Markdown, web pages and
feeds, and the summaries a card shows. Imports neither Telegram nor SQL."""
