"""Broadcasts: /broadcast and /cancel, what one send is, and the admin's progress view."""
