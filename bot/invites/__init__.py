"""Invites beyond the code itself: the links that carry it (Telegram, WhatsApp), finding it in
a family's first message, and the printable QR poster."""
