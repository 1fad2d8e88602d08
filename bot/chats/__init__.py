"""Chats: subscribing and unsubscribing, the bot's own membership, connecting channels."""
