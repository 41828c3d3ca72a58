"""GET /healthz and GET /metrics on a port of their own, in every mode (polling, webhook,
worker). Both read the backlogs from the database first; without a database /healthz says
503 and /metrics still renders (with achterban_database_up 0)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import MetricsSettings
from bot.observe import metrics
from storage.db import Database

log = logging.getLogger(__name__)
KEY = "metrics_server"
"""Where `bot.run.runner` keeps the running `MetricsServer` in `app.bot_data`."""


def metrics_app(db: Database) -> web.Application:
    """The routes: /healthz and /metrics."""

    async def healthz(_request: web.Request) -> web.Response:
        backlogs = await metrics.refresh(db)
        if backlogs is None:
            return web.json_response({"status": "unavailable", "database": "down"}, status=503)
        return web.json_response(
            {
                "status": "ok",
                "database": "ok",
                "inbox": {
                    "pending": backlogs.inbox.pending,
                    "oldest_seconds": round(backlogs.inbox.oldest_seconds, 1),
                },
                "outbox": {
                    channel: {
                        "pending": backlog.pending,
                        "oldest_seconds": round(backlog.oldest_seconds, 1),
                    }
                    for channel, backlog in backlogs.outbox.items()
                },
            }
        )

    async def scrape(_request: web.Request) -> web.Response:
        await metrics.refresh(db)
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", scrape)
    return app


class MetricsServer:
    """The metrics server of one process; `port` is the bound port after `start()` (None
    when it could not listen: the bot runs on without it, with a warning)."""

    def __init__(self, db: Database, settings: MetricsSettings) -> None:
        self.settings = settings
        self.port: int | None = None
        self._runner = web.AppRunner(metrics_app(db), access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        try:
            site = web.TCPSite(self._runner, self.settings.listen, self.settings.port)
            await site.start()
        except OSError as error:
            log.warning(
                "metrics: cannot listen on %s:%s (%s); /healthz and /metrics are off in this "
                "process (set [metrics] port, or ACHTERBAN_METRICS_PORT)",
                self.settings.listen,
                self.settings.port,
                error.strerror or type(error).__name__,
            )
            await self._runner.cleanup()
            return
        self.port = self._runner.addresses[0][1]
        log.info("metrics: /healthz and /metrics on %s:%s", self.settings.listen, self.port)

    async def stop(self) -> None:
        if self.port is not None:
            await self._runner.cleanup()
            self.port = None

    @property
    def url(self) -> str:
        """The server's address, e.g. http://127.0.0.1:9300 (after `start()`)."""
        return f"http://{self.settings.listen}:{self.port}"
