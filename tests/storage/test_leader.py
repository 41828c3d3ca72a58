"""One scheduler at a time: an advisory lock on PostgreSQL, a lock file on SQLite."""

from __future__ import annotations

import pytest

from bot.scheduling.leader import Leadership
from storage.db import Database


async def test_only_one_process_leads(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)
    one, two = Leadership(first), Leadership(second)
    try:
        if first.is_sqlite:
            assert one.claim_sqlite() is True
            assert two.claim_sqlite() is False, "a second process on SQLite is told so"
            assert await one.held() is True
            assert await two.held() is False, "and neither schedules nor sends"
        else:
            assert await one.held() is True
            assert await two.held() is False
            await one.release()
            assert await two.held() is True, "another process takes over"
    finally:
        await one.release()
        await two.release()
        await first.dispose()
        await second.dispose()


@pytest.fixture(autouse=True)
def _no_leftover_lock() -> None:
    """Lock files live next to each test's own database in a temporary folder."""
