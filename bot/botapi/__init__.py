"""A local Telegram Bot API server for end-to-end tests and the offline demo."""

from bot.botapi.faults import Faults
from bot.botapi.markup import Button
from bot.botapi.server import LocalBotApi, SendRecord
from bot.botapi.simuser import SentMessage, SimGroup, SimUser
from bot.botapi.transcript import TranscriptEntry

__all__ = [
    "Button",
    "Faults",
    "LocalBotApi",
    "SendRecord",
    "SentMessage",
    "SimGroup",
    "SimUser",
    "TranscriptEntry",
]
