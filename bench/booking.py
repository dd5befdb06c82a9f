"""Queue bookings per second under concurrent load, through BookingService and the store.

Two runs on a fresh database:

- spread: ATTEMPTS citizens book over several services and all their sessions, with
  room for everyone (every attempt should become a booking);
- hot: ATTEMPTS citizens race for one session that holds a fifth of them (the
  conditional UPDATE on one row decides; the rest are refused with other sessions).

    python bench/booking.py                                # SQLite in a temporary folder
    python bench/booking.py --postgres postgresql+asyncpg://postgres@127.0.0.1/test

With --postgres, the URL names a database to connect to; the benchmark creates a
scratch database next to it and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from scratch import scratch_postgres  # bench/ is on sys.path when run as a script

from hub.booking import Booking, BookingCalendar, BookingService
from hub.catalogue import Catalogue, load_catalogue
from hub.config import BookingConfig
from hub.store import Database, migrate
from hub.store.tables import contacts

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 12, 14, 7, 0, tzinfo=WITA)  # a Monday morning
DAY = date(2026, 12, 15)
SERVICES = ["ktp_el_baru", "kartu_keluarga", "akta_kelahiran", "paspor", "skck"]
SESSIONS = ["pagi", "siang", "sore"]
HOT = "pbb_p2"


def _catalogue(quota: int, service_ids: list[str]) -> Catalogue:
    catalogue = load_catalogue()
    services = {
        sid: dataclasses.replace(s, daily_quota=quota) if sid in service_ids else s
        for sid, s in catalogue.services.items()
    }
    return dataclasses.replace(catalogue, services=services)


async def _contacts(db: Database, count: int) -> list[int]:
    now = datetime.now(UTC)
    async with db.begin() as conn:
        rows = await conn.execute(
            sa.insert(contacts).returning(contacts.c.id),
            [
                {"display_name": f"bench {n}", "created_at": now, "updated_at": now}
                for n in range(count)
            ],
        )
        return [int(r.id) for r in rows]


async def _load(
    service: BookingService, jobs: list[tuple[int, str, str]], concurrency: int
) -> tuple[float, list[float], int]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    made = 0

    async def attempt(contact_id: int, service_id: str, session: str) -> None:
        nonlocal made
        async with gate:
            started = time.perf_counter()
            result = await service.book(contact_id, service_id, DAY, session, "bench")
            latencies.append(time.perf_counter() - started)
            made += isinstance(result, Booking)

    started = time.perf_counter()
    await asyncio.gather(*(attempt(*job) for job in jobs))
    return time.perf_counter() - started, latencies, made


def _report(name: str, attempts: int, elapsed: float, latencies: list[float], made: int) -> None:
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<7} {attempts} attempts, {made} booked, {attempts - made} refused | "
        f"{elapsed:.2f} s | {attempts / elapsed:.0f} attempts/s, {made / elapsed:.0f} bookings/s"
        f" | p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms"
    )


async def run(url: str, attempts: int, concurrency: int) -> None:
    db = Database.open(url)
    try:
        await migrate.upgrade(db)
        people = await _contacts(db, attempts * 2)
        config = BookingConfig()
        # Room for everyone in the spread run: every session holds all attempts.
        catalogue = _catalogue(attempts * len(SESSIONS), SERVICES)
        service = BookingService(
            db, catalogue, BookingCalendar(catalogue, config, WITA), config, lambda: NOW
        )
        slots = [(s, p) for s in SERVICES for p in SESSIONS]
        spread = [(people[n], *slots[n % len(slots)]) for n in range(attempts)]
        await service.book(people[-1], SERVICES[0], DAY, "pagi", "bench")  # warm up pools
        print(f"backend {db.dialect}, concurrency {concurrency}")
        _report("spread", attempts, *await _load(service, spread, concurrency))

        # One session holding a fifth of the attempts: the rest race for nothing.
        hot_catalogue = _catalogue(attempts // 5 * len(SESSIONS), [HOT])
        hot_service = BookingService(
            db, hot_catalogue, BookingCalendar(hot_catalogue, config, WITA), config, lambda: NOW
        )
        hot = [(people[attempts + n], HOT, "siang") for n in range(attempts)]
        _report("hot", attempts, *await _load(hot_service, hot, concurrency))
    finally:
        await db.close()


async def run_on_postgres(url: str, attempts: int, concurrency: int) -> None:
    async with scratch_postgres(url) as scratch:
        await run(scratch, attempts, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--postgres", help="postgresql+asyncpg:// URL (default: SQLite temp file)")
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(run_on_postgres(args.postgres, args.attempts, args.concurrency))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.attempts, args.concurrency))


if __name__ == "__main__":
    main()
