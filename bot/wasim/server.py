"""LocalWhatsApp: an aiohttp server that speaks the WhatsApp Cloud API for one business number."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web

from bot.wasim.errors import JSON, GraphError, token_error, unsupported
from bot.wasim.faults import Faults
from bot.wasim.media import MAX_UPLOAD, MediaStore
from bot.wasim.messages import SendRecord, handle_messages
from bot.wasim.transcript import TranscriptEntry, render_transcript
from bot.wasim.user import WaUser
from bot.wasim.webhook import WebhookDelivery, encode

log = logging.getLogger(__name__)
VERSION = re.compile(r"v\d+\.\d+")
DEFAULT_TEMPLATES = {
    "achterban_round": ("nl", "en"),
    "achterban_reminder": ("nl", "en"),
    "achterban_followup": ("nl", "en"),
}
QUICK_REPLIES = {"nl": ["Start", "Niet nu"], "en": ["Start", "Not now"]}
Handler = Callable[[web.Request], Awaitable[JSON]]


class LocalWhatsApp:
    """A local WhatsApp Cloud API with simulated users, fault switches and a transcript."""

    def __init__(
        self,
        *,
        phone_number_id: str = "100200300",
        token: str = "WA-TEST-TOKEN",
        app_secret: str = "wa-test-app-secret",
        business_number: str = "31201234567",
        templates: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self.token = token
        self.app_secret = app_secret
        self.business_number = business_number
        self.waba_id = "102290129340398"
        self.graph_version = "v25.0"
        self.templates = dict(DEFAULT_TEMPLATES if templates is None else templates)
        self.template_buttons: dict[str, dict[str, list[str]]] = {
            name: {code: list(QUICK_REPLIES[code]) for code in ("nl", "en")}
            for name in DEFAULT_TEMPLATES
        }
        self.webhook_url: str | None = None
        self.users: dict[str, WaUser] = {}
        self.sends: list[SendRecord] = []
        self.rejected: list[tuple[float, str, int]] = []
        self.calls: Counter[str] = Counter()
        self.transcript: list[TranscriptEntry] = []
        self.clock_offset = 0.0
        self.statuses = "normal"
        self.auto_read = False
        self.messages_per_second: float | None = None
        self.token_expired = False
        self.status_delay = 0.01
        self.late_delay = 0.5
        self.read_timeout = 10.0
        self.faults = Faults()
        self.media = MediaStore(self.now)
        self.delivery = WebhookDelivery(lambda: self.webhook_url, lambda: self.app_secret)
        self.inbound_owner: dict[str, WaUser] = {}
        self.last_inbound: bytes | None = None
        self._read_events: dict[str, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0

    @property
    def base_url(self) -> str:
        """The Graph root; the bot appends /{phone_number_id}/messages."""
        return f"http://{self._host}:{self._port}/{self.graph_version}"

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after start)."""
        return self._port

    @property
    def metadata(self) -> JSON:
        """The metadata of every webhook value."""
        return {
            "display_phone_number": self.business_number,
            "phone_number_id": self.phone_number_id,
        }

    @property
    def webhook_statuses(self) -> list[int]:
        """HTTP statuses the bot's webhook answered, in order (0 = connection failed)."""
        return self.delivery.statuses

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_get("/media/{media_id}", self._download)
        app.router.add_route("*", "/{version}/{node}/{edge}", self._edge)
        app.router.add_route("*", "/{version}/{node}", self._node)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host = host
        self._port = int(self._runner.addresses[0][1])
        await self.delivery.open()

    async def stop(self) -> None:
        """Cancel pending webhook deliveries and close the server."""
        await self.delivery.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalWhatsApp:
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
        self, wa_id: str, *, name: str = "Sam", bsuid: str | None = None, on_whatsapp: bool = True
    ) -> WaUser:
        """A simulated WhatsApp user (created once per wa_id)."""
        if wa_id not in self.users:
            self.users[wa_id] = WaUser(self, wa_id, name, bsuid, on_whatsapp)
        return self.users[wa_id]

    def renumber(self, user: WaUser, new_wa_id: str) -> None:
        """Move a user to a new number; the old one becomes unknown."""
        self.users.pop(user.wa_id, None)
        user.wa_id = new_wa_id
        self.users[new_wa_id] = user

    def fail_next(
        self, code: int, count: int = 1, *, to: str | None = None, kind: str | None = None
    ) -> None:
        """Refuse the next `count` sends (to `to`, of message type `kind` such as "text" or
        "interactive", if given) with this Graph error code."""
        self.faults.fail_next(code, count, to, kind)

    def fail_status(self, code: int, *, to: str) -> None:
        """Accept the next send to `to`, then post a failed status with this code."""
        self.faults.fail_status(code, to)

    async def post_webhook(self, payload: dict, *, signature: str | None = "valid") -> int:
        """POST a raw payload once; signature "valid" signs it, None sends no header."""
        return await self.delivery.post(encode(payload), signature)

    async def redeliver_last(self) -> int:
        """POST the last inbound webhook body again, the same bytes (a Meta retry)."""
        if self.last_inbound is None:
            raise AssertionError("no inbound message was delivered yet")
        return await self.delivery.post(self.last_inbound)

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until no status POST is pending."""
        await self.delivery.settle(timeout)

    def now(self) -> float:
        """The server's clock: Unix time plus clock_offset."""
        return time.time() + self.clock_offset

    def read_event(self, wamid: str) -> asyncio.Event:
        """The event set when the bot marks this inbound message as read."""
        return self._read_events.setdefault(wamid, asyncio.Event())

    def note(
        self, who: str, direction: str, kind: str, text: str, choices: list[str] | None = None
    ) -> None:
        """Add a step to the transcript."""
        self.transcript.append(TranscriptEntry(who, direction, kind, text, list(choices or [])))

    def render_transcript(self) -> str:
        """The transcript as "[whatsapp] …" lines."""
        return render_transcript(self.transcript)

    def _check_token(self, request: web.Request) -> None:
        """Bearer token (or access_token parameter), not expired."""
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else None
        given = given or request.query.get("access_token")
        if given != self.token:
            raise token_error(expired=False)
        if self.token_expired:
            raise token_error(expired=True)

    async def _answer(self, request: web.Request, call: str, handler: Handler) -> web.Response:
        """Count the call, check the token and version, run it, answer errors like Graph."""
        self.calls[call] += 1
        try:
            self._check_token(request)
            if not VERSION.fullmatch(request.match_info.get("version", "")):
                raise GraphError(2500, message=f"Unknown path components: {request.path}")
            return web.json_response(await handler(request))
        except GraphError as error:
            return web.json_response(error.body(), status=error.status)
        except Exception as exc:  # the simulator's own bug: answer like Meta's 500
            log.exception("LocalWhatsApp failed on %s", request.path)
            error = GraphError(131000, f"simulator error: {exc!r}")
            return web.json_response(error.body(), status=500)

    async def _edge(self, request: web.Request) -> web.Response:
        """POST /{version}/{phone_number_id}/messages or /media."""
        node, edge = request.match_info["node"], request.match_info["edge"]
        payload: object = None
        if edge == "messages" and request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                payload = None
        if edge == "media" and request.method == "POST":
            call = "media"
        elif edge == "messages" and request.method == "POST":
            call = "read" if isinstance(payload, dict) and "status" in payload else "messages"
        else:
            call = "unknown"

        async def handle(request: web.Request) -> JSON:
            if node != self.phone_number_id or call == "unknown":
                raise unsupported(request.method, f"{node}/{edge}")
            if call == "media":
                media = await self.media.upload(request)
                return {"id": media.media_id}
            return handle_messages(self, payload)

        return await self._answer(request, call, handle)

    async def _node(self, request: web.Request) -> web.Response:
        """GET /{version}/{media_id} (media URL) or /{phone_number_id}; DELETE a media."""
        node = request.match_info["node"]

        async def handle(request: web.Request) -> JSON:
            media = self.media.get(node)
            if media is not None and request.method == "GET":
                return self.media.info(media, f"http://{self._host}:{self._port}/media/{node}")
            if media is not None and request.method == "DELETE":
                del self.media.items[node]
                return {"success": True}
            if node == self.phone_number_id and request.method == "GET":
                return {
                    "verified_name": "Achterban",
                    "display_phone_number": f"+{self.business_number}",
                    "quality_rating": "GREEN",
                    "id": self.phone_number_id,
                }
            raise unsupported(request.method, node)

        return await self._answer(request, "media_info", handle)

    async def _download(self, request: web.Request) -> web.Response:
        """GET /media/{id} with the Bearer token: the bytes."""
        self.calls["download"] += 1
        try:
            self._check_token(request)
        except GraphError as error:
            return web.json_response(error.body(), status=error.status)
        media = self.media.get(request.match_info["media_id"])
        if media is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])

    async def _unknown(self, request: web.Request) -> web.Response:
        """Any other path: Graph's "Unknown path components"."""

        async def handle(request: web.Request) -> JSON:
            raise GraphError(2500, message=f"Unknown path components: {request.path}")

        return await self._answer(request, "unknown", handle)
