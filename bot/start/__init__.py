"""First contact: /start with deep links, /help, and the command menus Telegram shows."""
