"""What editors read: /stats, /report and /export, and the reactions they count."""
