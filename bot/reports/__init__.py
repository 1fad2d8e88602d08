"""What editors read: /stats."""
