"""The test proxy: bytes flow both ways; drop, refuse and restore act at once; a database
behind it comes back after a cut."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc, make_url, text

from storage.db import Database
from tests.proxy import TcpProxy

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    """A local server that sends back whatever it reads, until the end of the stream."""
    handlers: set[asyncio.Task[object]] = set()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            handlers.discard(task)

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    await asyncio.gather(*handlers, return_exceptions=True)


@pytest.fixture
async def proxy(echo_port: int) -> AsyncIterator[TcpProxy]:
    async with TcpProxy("127.0.0.1", echo_port) as running:
        yield running


@contextlib.asynccontextmanager
async def connected(proxy: TcpProxy) -> AsyncIterator[Stream]:
    """A client connection through the proxy, closed afterwards."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def round_trip(stream: Stream, data: bytes) -> bytes:
    reader, writer = stream
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), 2)


async def is_cut(reader: asyncio.StreamReader) -> bool:
    """True when the connection ends (end of stream or a reset) without more data."""
    try:
        return await asyncio.wait_for(reader.read(1), 2) == b""
    except ConnectionResetError:
        return True


async def test_bytes_flow_both_ways(proxy: TcpProxy) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB
    async with connected(proxy) as stream:
        assert await round_trip(stream, b"hallo") == b"hallo"
        assert await round_trip(stream, big) == big
        reader, writer = stream
        writer.write_eof()  # the end of stream is passed on, and the echo server's back
        assert await asyncio.wait_for(reader.read(), 2) == b""
    assert proxy.connections == 1


async def test_drop_cuts_open_connections_but_accepts_new_ones(proxy: TcpProxy) -> None:
    async with connected(proxy) as first, connected(proxy) as second:
        assert await round_trip(first, b"een") == b"een"
        assert await round_trip(second, b"twee") == b"twee"
        proxy.drop()
        assert await is_cut(first[0])
        assert await is_cut(second[0])
    async with connected(proxy) as third:
        assert await round_trip(third, b"drie") == b"drie"
    assert proxy.connections == 3


async def test_refuse_and_restore(proxy: TcpProxy) -> None:
    port = proxy.port
    async with connected(proxy) as open_one:
        assert await round_trip(open_one, b"x") == b"x"
        proxy.refuse()
        assert await is_cut(open_one[0])
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    proxy.restore()
    assert proxy.port == port
    async with connected(proxy) as stream:
        assert await round_trip(stream, b"weer") == b"weer"
    assert proxy.connections == 2


async def test_switches_in_a_row_end_in_the_last_state(proxy: TcpProxy) -> None:
    proxy.refuse()
    proxy.restore()
    async with connected(proxy) as stream:
        assert await round_trip(stream, b"aan") == b"aan"
    proxy.refuse()
    proxy.restore()
    proxy.refuse()  # the new listener is still starting: a connection now fails or is cut
    with contextlib.suppress(ConnectionError):
        async with connected(proxy) as stream:
            assert await is_cut(stream[0])
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", proxy.port)
    proxy.restore()
    proxy.refuse()
    proxy.restore()  # keeps the listener that is still starting
    async with connected(proxy) as stream:
        assert await round_trip(stream, b"weer aan") == b"weer aan"


async def test_a_target_that_is_down_cuts_the_client() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        free_port = unused.getsockname()[1]
    async with TcpProxy("127.0.0.1", free_port) as proxy, connected(proxy) as stream:
        assert await is_cut(stream[0])
    assert proxy.connections == 1


async def test_stop_closes_everything(echo_port: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo_port)
    await proxy.start()
    async with connected(proxy) as stream:
        assert await round_trip(stream, b"x") == b"x"
        await proxy.stop()
        assert await is_cut(stream[0])
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", proxy.port)
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_url_for_points_at_the_proxy(proxy: TcpProxy) -> None:
    url = proxy.url_for("postgresql+asyncpg://bot:geheim@db.example:5432/achterban")
    assert url == f"postgresql+asyncpg://bot:geheim@127.0.0.1:{proxy.port}/achterban"


async def test_database_comes_back_after_a_cut(postgres_url: str | None) -> None:
    if postgres_url is None:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    server = make_url(postgres_url)
    async with TcpProxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
        db = Database(proxy.url_for(postgres_url))
        try:
            async with db.read() as session:
                assert await session.scalar(text("SELECT 1")) == 1
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                proxy.drop()
                with pytest.raises(exc.DBAPIError):
                    await connection.execute(text("SELECT 1"))
            proxy.refuse()
            assert not await db.ping()
            proxy.restore()
            async with db.read() as session:  # pool_pre_ping replaces the dead connection
                assert await session.scalar(text("SELECT 1")) == 1
        finally:
            await db.dispose()
    assert proxy.connections >= 2
