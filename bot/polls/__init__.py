"""Reader polls: the in-memory book, taps and votes, live totals on every copy, closing."""
