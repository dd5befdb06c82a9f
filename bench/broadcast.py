"""Live replies while a broadcast runs: the web chat's reply latency with and without a
20,000-recipient announcement being sent, in one run on one hub.

The hub listens on a free local port (SQLite in a temporary folder by default).
20,000 citizens subscribed on a provider channel ("provider", a stand-in for Telegram:
each send takes ``--send-ms``, paced at ``--rate`` messages a second like Telegram's
limit) are written straight into the database. Then web chat visitors talk to the bot
(each message waits for its replies, as a person does) twice: once with nothing
else going on, once right after a supervisor approved an announcement to all 20,000.
It prints live p50/p95/p99 of both runs side by side and the broadcast's pace during the
live traffic (it yields to live turns) and after it.

    python bench/broadcast.py                    # 20,000 recipients, 8 visitors x 25 messages
    python bench/broadcast.py --recipients 5000 --visitors 16
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web
from pipeline import _free_port, _visitor  # bench/ is on sys.path when run as a script

from hub.app import HUB, Hub, create_app
from hub.channels.base import Capabilities, Channel
from hub.config import load_config
from hub.logs import configure_logging
from hub.model import OutboundMessage, SendResult, utcnow
from hub.store.tables import contacts, conversations, identities, subscriptions

CHANNEL = "provider"


class SlowProvider(Channel):
    """Takes ``send_seconds`` per message, like a provider's API across the internet."""

    def __init__(self, send_seconds: float) -> None:
        self.name = CHANNEL
        self.capabilities = Capabilities(buttons=True, max_buttons=3)
        self.send_seconds = send_seconds
        self.sent = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        await asyncio.sleep(self.send_seconds)
        self.sent += 1
        return SendResult(provider_message_id=f"p-{self.sent}")


async def subscribe_many(hub: Hub, count: int) -> None:
    """``count`` citizens subscribed to ``pengumuman``, each with a closed old conversation."""
    now = utcnow()
    async with hub.db.begin() as conn:
        first = await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(contacts.c.id), 0)))
        base = int(first or 0)
        for start in range(0, count, 2000):
            ids = range(base + start + 1, base + min(start + 2000, count) + 1)
            await conn.execute(
                sa.insert(contacts),
                [{"id": i, "display_name": "", "created_at": now, "updated_at": now} for i in ids],
            )
            await conn.execute(
                sa.insert(identities),
                [
                    {"contact_id": i, "channel": CHANNEL, "address": f"u{i}", "created_at": now}
                    for i in ids
                ],
            )
            await conn.execute(
                sa.insert(conversations),
                [
                    {
                        "contact_id": i,
                        "status": "bot",
                        "channel": CHANNEL,
                        "address": f"u{i}",
                        "locale": "id",
                        "state": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                sa.insert(subscriptions),
                [
                    {
                        "contact_id": i,
                        "topic": "pengumuman",
                        "channel": CHANNEL,
                        "address": f"u{i}",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )


async def live(base: str, visitors: int, messages: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_visitor(base, messages, latencies) for _ in range(visitors)))
    return latencies, time.perf_counter() - started


def figures(latencies: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(latencies, n=100)
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


async def run(args: argparse.Namespace, storage_url: str) -> None:
    port = _free_port()
    settings = load_config(
        None,
        storage={"url": storage_url},
        server={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        ratelimit={"enabled": False},
        announcements={"rate_per_second": {CHANNEL: args.rate}},
    )
    provider = SlowProvider(args.send_ms / 1000)
    app = create_app(settings, extra_channels=[provider])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    hub = app[HUB]
    base = f"http://127.0.0.1:{port}"
    try:
        await subscribe_many(hub, args.recipients)
        await _visitor(base, 1, [])  # warm up: schema, templates, pools
        quiet, quiet_wall = await live(base, args.visitors, args.messages)

        draft = await hub.announcements.draft(
            text_id="Besok MPP Badung tutup untuk Hari Raya Nyepi. Layanan buka kembali lusa.",
            text_en="MPP Badung is closed tomorrow for Nyepi. Services reopen the day after.",
            topics=["pengumuman"],
            created_by="officer:1",
        )
        approve_started = time.perf_counter()
        started = await hub.announcements.approve(draft.id, "officer:2")
        approve_seconds = time.perf_counter() - approve_started
        hub.broadcaster.notify()
        busy, busy_wall = await live(base, args.visitors, args.messages)
        during = provider.sent
        await asyncio.sleep(3.0)  # nobody writing: the broadcast takes its full pace
        alone = (provider.sent - during) / 3.0
        progress = await hub.announcements.progress(draft.id)
    finally:
        await runner.cleanup()

    q_quiet, q_busy = figures(quiet), figures(busy)
    print(f"recipients         {started.recipients} (audience drawn in {approve_seconds:.2f} s)")
    print(f"live traffic       {args.visitors} web chat visitors x {args.messages} messages")
    print(f"provider           {args.send_ms:.0f} ms a send, paced at {args.rate:g}/s")
    print(f"{'':19}{'p50':>9}{'p95':>9}{'p99':>9}{'msg/s':>9}")
    for name, q, n, wall in (
        ("without broadcast", q_quiet, len(quiet), quiet_wall),
        ("during broadcast", q_busy, len(busy), busy_wall),
    ):
        print(f"{name:19}{q[0]:8.0f}ms{q[1]:7.0f}ms{q[2]:7.0f}ms{n / wall:9.1f}")
    print(f"p99 ratio          {q_busy[2] / q_quiet[2]:.2f} (during / without)")
    print(
        f"broadcast          {during} sent during the live run ({during / busy_wall:.1f}/s), "
        f"{alone:.1f}/s with no live traffic, {progress['queued']} still queued"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--messages", type=int, default=25)
    parser.add_argument("--rate", type=float, default=25.0, help="broadcast pace, messages/s")
    parser.add_argument("--send-ms", type=float, default=40.0, help="provider time per send")
    args = parser.parse_args()
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"))


if __name__ == "__main__":
    main()
