"""LocalBotApi: an aiohttp server that speaks the Telegram Bot API for tests and the demo."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from types import TracebackType

from aiohttp import web

from bot.botapi.errors import ApiError, not_found
from bot.botapi.faults import Faults, proxy_page
from bot.botapi.markup import inline_buttons
from bot.botapi.methods import BY_LOWER_NAME, METHODS
from bot.botapi.params import Params, read_params
from bot.botapi.simuser import SimGroup, SimUser
from bot.botapi.state import JSON, BotState, Chat, StoredMessage
from bot.botapi.transcript import SOUNDS, TranscriptEntry, render_transcript, sound_label
from bot.botapi.updates import UpdateQueue
from bot.botapi.webhook import WebhookDelivery

log = logging.getLogger(__name__)
MAX_UPLOAD = 60 * 1024 * 1024


@dataclass(frozen=True)
class SendRecord:
    """A successful send or edit (action "send"/"edit"), for measuring the sending rate."""

    at: float
    chat_id: int
    action: str
    message_id: int


@dataclass(frozen=True)
class Arrival:
    """A call with a chat_id as the server saw it arrive (before latency and faults); `ok` is
    whether it was answered with success (None while it runs)."""

    at: float
    method: str
    chat_id: int | None
    ok: bool | None


class LocalBotApi:
    """A local Telegram Bot API server with simulated users, faults and a transcript."""

    def __init__(
        self, token: str = "123456:TEST-TOKEN", bot_username: str = "achterban_test_bot"
    ) -> None:
        self._token = token
        self._bot_username = bot_username
        self.bot_first_name = "Achterban"
        self.state = BotState()
        self.queue = UpdateQueue()
        self.webhook = WebhookDelivery(self.queue)
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.sends: list[SendRecord] = []
        self.arrivals: list[Arrival] = []
        self.transcript: list[TranscriptEntry] = []
        self.wait_timeout = 10.0
        self.drop_pending_requested = False
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, SimGroup] = {}
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._in_flight = 0
        self._last_activity = time.monotonic()

    @property
    def token(self) -> str:
        """The bot token this server accepts."""
        return self._token

    @property
    def bot_username(self) -> str:
        """The bot's @username, without the @."""
        return self._bot_username

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(...): the token is appended to it."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(...)."""
        return f"http://{self._host}:{self._port}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot as a User object."""
        bot_id = int(self._token.split(":", 1)[0])
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self._bot_username,
        }

    @property
    def webhook_statuses(self) -> list[int]:
        """HTTP statuses the bot's webhook answered, in order (0 = connection failed)."""
        return self.webhook.statuses

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host = host
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """End long polls, a hang and webhook delivery, then close the server."""
        self.queue.close()
        self.faults.end_hang()
        await self.webhook.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def user(
        self, user_id: int, *, first_name: str = "Test", language_code: str | None = "nl"
    ) -> SimUser:
        """A simulated user with a private chat with the bot (created once)."""
        if user_id not in self.users:
            chat = self.state.chats.setdefault(user_id, Chat(user_id, "private", first_name))
            self.users[user_id] = SimUser(self, chat, first_name, language_code)
        return self.users[user_id]

    def group(self, chat_id: int, title: str) -> SimGroup:
        """A simulated group chat the bot is a member of (created once)."""
        if chat_id not in self.groups:
            chat = self.state.chats.setdefault(chat_id, Chat(chat_id, "group", title=title))
            self.groups[chat_id] = SimGroup(self, chat)
        return self.groups[chat_id]

    def commands(
        self, scope_type: str = "default", chat_id: int | None = None, language_code: str = ""
    ) -> list[JSON]:
        """The commands the bot set for a scope and language (user_id scopes not covered)."""
        return self.state.commands.get((scope_type, chat_id, None, language_code), [])

    async def deliver_raw(self, update: JSON) -> int:
        """Queue any update dict (update_id assigned if missing) and wait for confirmation."""
        update_id = self.queue.put(update)
        await self.queue.wait_confirmed(update_id, self.wait_timeout)
        return update_id

    async def wait_idle(self, quiet: float = 0.05, within: float | None = None) -> None:
        """Wait until no update is pending and no call (besides getUpdates) came for `quiet` s."""
        limit = self.wait_timeout if within is None else within
        deadline = time.monotonic() + limit
        while (
            self.queue.pending
            or self._in_flight
            or (self.queue.busy is not None and self.queue.busy())
            or time.monotonic() - self._last_activity < quiet
        ):
            if time.monotonic() >= deadline:
                raise AssertionError(f"the bot did not become idle within {limit:g}s")
            await asyncio.sleep(quiet / 4)

    def now(self) -> int:
        """Telegram's clock: Unix time in seconds."""
        return int(time.time())

    def note_user(self, user_id: int, chat_id: int, action: str, text: str) -> None:
        """Add a user's action to the transcript."""
        self.transcript.append(TranscriptEntry(False, chat_id, user_id, action, text))

    def note_toast(self, chat_id: int, text: str, *, alert: bool) -> None:
        """Add the toast (or alert) of an answered callback query to the transcript."""
        shown = f"⚠ {text}" if alert else text
        self.transcript.append(TranscriptEntry(True, chat_id, None, "toast", shown))

    def note_bot_message(self, message: StoredMessage, action: str) -> None:
        """Add a bot send, edit or deletion to the transcript and the send log."""
        kind = message.kind if action == "send" and message.kind != "text" else action
        text = message.text or (message.file.filename or "" if message.file else "")
        if message.kind in SOUNDS and message.file is not None:
            text = sound_label(message.kind, message.file.duration, message.text)
        labels = [[b.text for b in row] for row in inline_buttons(message.reply_markup)]
        if action != "delete":
            self.sends.append(
                SendRecord(time.monotonic(), message.chat.id, action, message.message_id)
            )
        else:
            labels = []
        self.transcript.append(TranscriptEntry(True, message.chat.id, None, kind, text, labels))

    def busiest_second(self, *, since: float = 0.0) -> int:
        """The most arrivals (calls with a chat_id) in one second [t, t + 1), t an arrival at or
        after `since`: what Telegram's limit of about 30 messages a second counts."""
        moments = sorted(a.at for a in self.arrivals if a.at >= since)
        busiest, first = 0, 0
        for last, moment in enumerate(moments):
            while moment >= moments[first] + 1.0:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest

    def render_transcript(self, names: dict[int, str] | None = None) -> str:
        """The transcript as readable terminal lines; names maps user ids to display names."""
        known = {uid: user.first_name for uid, user in self.users.items()}
        known |= {gid: group.chat.title or str(gid) for gid, group in self.groups.items()}
        return render_transcript(self.transcript, known | (names or {}))

    async def _handle(self, request: web.Request) -> web.Response:
        """Route one Bot API call and wrap its result in Telegram's envelope."""
        arrived = time.monotonic()
        raw_name = request.match_info["method"]
        name = BY_LOWER_NAME.get(raw_name.lower(), raw_name)
        self.calls[name] += 1
        counted = name != "getUpdates"
        self._in_flight += counted
        arrival: Arrival | None = None
        ok = False
        try:
            params = await read_params(request)
            arrival = self._note_arrival(arrived, name, params)
            if request.match_info["token"] != self._token or name not in METHODS:
                raise not_found()
            if await self.faults.hold(name):
                raise ApiError(502, "Bad Gateway")  # the hang ended; its caller gave up long ago
            outage = self.faults.outage_for(name)
            if outage is not None and outage.html:
                page = proxy_page(outage.status)
                return web.Response(text=page, status=outage.status, content_type="text/html")
            if outage is not None:
                raise outage.error()
            if self.faults.latency:
                await asyncio.sleep(self.faults.latency)
            self.faults.check(name, params.raw("chat_id"))
            result = await METHODS[name](self, params)
            ok = True
            return web.json_response({"ok": True, "result": result})
        except ApiError as error:
            return web.json_response(error.envelope(), status=error.status)
        except Exception as exc:  # the simulator's own bug: report it like a 500
            log.exception("LocalBotApi failed on %s", name)
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
            return web.json_response(body, status=500)
        finally:
            self._in_flight -= counted
            self._last_activity = time.monotonic()
            if arrival is not None:
                self._settle(arrival, ok)

    def _note_arrival(self, at: float, method: str, params: Params) -> Arrival | None:
        """Log a call that names a chat; an @username or odd value is logged as chat None."""
        if not params.has("chat_id"):
            return None
        value = params.raw("chat_id")
        chat_id: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            chat_id = value
        elif isinstance(value, str) and value.lstrip("-").isdigit():
            chat_id = int(value)
        arrival = Arrival(at, method, chat_id, None)
        self.arrivals.append(arrival)
        return arrival

    def _settle(self, arrival: Arrival, ok: bool) -> None:
        """Fill in how an arrival ended (skipped when a test emptied the log meanwhile)."""
        for index in range(len(self.arrivals) - 1, -1, -1):
            if self.arrivals[index] is arrival:
                self.arrivals[index] = replace(arrival, ok=ok)
                return

    async def _download(self, request: web.Request) -> web.Response:
        """Serve the bytes of a stored file."""
        stored = self.state.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self._token or stored is None or stored.data is None:
            return web.json_response(not_found().envelope(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
