"""The scale fixtures themselves: two real `majlis serve` processes on one PostgreSQL answer, and stop when told."""

from __future__ import annotations

import aiohttp

from tests.scale.conftest import Start


async def test_two_served_processes_answer_on_their_own_ports(majlis_processes: Start) -> None:
    first, second = await majlis_processes(count=2)
    assert first.port != second.port and first.pid != second.pid
    async with aiohttp.ClientSession() as http:
        for served in (first, second):
            async with http.get(served.url + "/login") as answer:
                assert answer.status == 200
                assert "majlis" in (await answer.text()).lower()
    second.kill()
    assert not second.alive()
    assert first.alive()
