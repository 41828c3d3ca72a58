"""A local WhatsApp Cloud API server for end-to-end tests, the demo and the benches."""

from bot.wasim.message import WaMessage
from bot.wasim.messages import SendRecord
from bot.wasim.server import LocalWhatsApp
from bot.wasim.transcript import TranscriptEntry, render_transcript
from bot.wasim.user import WaUser

__all__ = [
    "LocalWhatsApp",
    "SendRecord",
    "TranscriptEntry",
    "WaMessage",
    "WaUser",
    "render_transcript",
]
