"""Achterban: a Telegram bot that lets a client council reach its dispersed backers."""
