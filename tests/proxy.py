"""TcpProxy: a TCP forwarder for tests that cuts, refuses and restores connections on demand
(a database restart, deterministically)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType

from sqlalchemy import make_url

CHUNK = 64 * 1024


class _Link:
    """One proxied connection: the client's side and the target's side."""

    def __init__(self, client: asyncio.StreamWriter, target: asyncio.StreamWriter) -> None:
        self.client = client
        self.target = target

    def abort(self) -> None:
        """Close both sides at once, dropping what is still buffered."""
        self.client.transport.abort()
        self.target.transport.abort()

    async def close(self) -> None:
        """Close both sides and wait until they are closed."""
        for writer in (self.client, self.target):
            writer.close()
        for writer in (self.client, self.target):
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class TcpProxy:
    """Listens on a local port and forwards every connection to target_host:target_port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._host = "127.0.0.1"
        self._port = 0
        self._server: asyncio.Server | None = None
        self._starting: asyncio.Task[None] | None = None
        self._retired: list[asyncio.Server] = []
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._cuts = 0  # how often connections were cut, so a connection being set up notices
        self._refusing = False
        self._stopped = False
        self.connections = 0

    @property
    def port(self) -> int:
        """The port the proxy listens on (after start)."""
        return self._port

    def url_for(self, database_url: str) -> str:
        """The same SQLAlchemy URL, pointing at the proxy instead."""
        url = make_url(database_url).set(host=self._host, port=self._port)
        return url.render_as_string(hide_password=False)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free port."""
        self._host, self._port = host, port
        self._listen()
        assert self._starting is not None
        await self._starting

    def drop(self) -> None:
        """Cut every open connection now, in both directions."""
        self._cuts += 1
        for link in list(self._links):
            link.abort()

    def refuse(self) -> None:
        """Stop listening (new connections are refused) and cut the open ones."""
        self._refusing = True
        self._close_listener()
        self.drop()

    def restore(self) -> None:
        """Listen on the same port again and forward new connections."""
        if not self._refusing or self._stopped:
            return
        self._refusing = False
        if self._starting is None or self._starting.done():
            self._listen()
        # else the listener refuse() found still starting stays open: _serve keeps it

    async def stop(self) -> None:
        """Stop listening, cut every connection and wait until all is closed."""
        self._stopped = self._refusing = True
        if self._starting is not None:
            await self._starting
        self._close_listener()
        self.drop()
        if self._handlers:
            _done, pending = await asyncio.wait(self._handlers, timeout=1.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for server in self._retired:
            await server.wait_closed()
        self._retired.clear()

    async def __aenter__(self) -> TcpProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _listen(self) -> None:
        """Bind and listen at once (the kernel queues connections), serve from a task."""
        listener = socket.create_server((self._host, self._port))
        self._port = listener.getsockname()[1]
        self._starting = asyncio.get_running_loop().create_task(self._serve(listener))

    async def _serve(self, listener: socket.socket) -> None:
        """Accept connections on `listener`, unless refuse() or stop() came first."""
        server = await asyncio.start_server(self._accept, sock=listener)
        if self._refusing:
            server.close()
            self._retired.append(server)
        else:
            self._server = server

    def _close_listener(self) -> None:
        """Close the listening socket; one still starting closes itself in _serve (until then
        new connections are accepted and cut)."""
        if self._server is not None:
            self._server.close()
            self._retired.append(self._server)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Connect to the target and pump bytes both ways until both sides are done."""
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if self._refusing:
                writer.transport.abort()
                return
            self.connections += 1
            cuts = self._cuts
            try:
                target_reader, target_writer = await asyncio.open_connection(*self._target)
            except OSError:  # the target is down
                writer.transport.abort()
                return
            except asyncio.CancelledError:  # stop() gave up waiting for the target
                writer.transport.abort()
                raise
            link = _Link(writer, target_writer)
            self._links.add(link)
            try:
                if self._cuts != cuts:  # drop() came while connecting
                    link.abort()
                await asyncio.gather(
                    self._pump(reader, target_writer, link), self._pump(target_reader, writer, link)
                )
            finally:
                self._links.discard(link)
                await link.close()
        finally:
            self._handlers.discard(task)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link
    ) -> None:
        """Copy one direction; pass an end of stream on, cut both sides on an error."""
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()
        except OSError:
            link.abort()
