"""Web chat throughput of the whole pipeline, through a real server socket.

Starts the hub on a free local port, opens N web chat visitors that each send M
messages one after another (waiting for each answer, as a person would), and
prints messages per second and the latency from send to the last reply.

    python bench/pipeline.py                       # SQLite in a temporary folder
    python bench/pipeline.py --postgres postgresql+asyncpg://postgres@127.0.0.1/test \
        --redis redis://127.0.0.1:6379/15

With --postgres, the URL names a database to connect to; the benchmark creates a
scratch database next to it and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from scratch import scratch_postgres  # bench/ is on sys.path when run as a script

from hub.app import create_app
from hub.config import load_config
from hub.logs import configure_logging

REPLIES_PER_MESSAGE = 2  # greeting + menu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _visitor(base: str, messages: int, latencies: list[float]) -> None:
    # Like a browser: the page gives the visitor cookie, the websocket carries it.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/chat") as page:
            page.raise_for_status()
        async with http.ws_connect(f"{base}/chat/ws", headers={"Origin": base}) as ws:
            await _talk(ws, messages, latencies)


async def _talk(ws: aiohttp.ClientWebSocketResponse, messages: int, latencies: list[float]) -> None:
    """Send ``messages`` greetings one after another, each waiting for both replies."""
    for n in range(messages):
        started = time.perf_counter()
        await ws.send_str(json.dumps({"type": "message", "id": f"m{n}", "text": "halo"}))
        replies = 0
        while replies < REPLIES_PER_MESSAGE:
            frame = json.loads((await ws.receive(timeout=60)).data)
            if frame["type"] == "message":
                replies += 1
        latencies.append(time.perf_counter() - started)


async def run(storage_url: str, redis_url: str | None, visitors: int, messages: int) -> None:
    port = _free_port()
    settings = load_config(
        None,
        storage={"url": storage_url},
        redis={"url": redis_url},
        server={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        # Every visitor comes from 127.0.0.1: the per-address limits would measure themselves.
        ratelimit={"enabled": False},
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    try:
        await _visitor(base, 1, [])  # warm up: schema, templates, pools
        started = time.perf_counter()
        await asyncio.gather(*(_visitor(base, messages, latencies) for _ in range(visitors)))
        elapsed = time.perf_counter() - started
    finally:
        await runner.cleanup()
    total = visitors * messages
    quantiles = statistics.quantiles(latencies, n=100)
    backend = storage_url.split(":", 1)[0] + (" + redis" if redis_url else "")
    print(f"backend            {backend}")
    print(f"visitors x msgs    {visitors} x {messages} = {total} messages, {total * 2} replies")
    print(f"wall time          {elapsed:.2f} s")
    print(
        f"throughput         {total / elapsed:.1f} messages/s ({total * 2 / elapsed:.1f} replies/s)"
    )
    print(f"latency p50        {quantiles[49] * 1000:.1f} ms")
    print(f"latency p95        {quantiles[94] * 1000:.1f} ms")


async def run_on_postgres(url: str, redis_url: str | None, visitors: int, messages: int) -> None:
    async with scratch_postgres(url) as scratch:
        await run(scratch, redis_url, visitors, messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--postgres", help="postgresql+asyncpg:// URL (default: SQLite temp file)")
    parser.add_argument("--redis", help="redis:// URL for coordination (default: in-process)")
    args = parser.parse_args()
    configure_logging("ERROR")
    if args.postgres:
        asyncio.run(run_on_postgres(args.postgres, args.redis, args.visitors, args.messages))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.redis, args.visitors, args.messages))


if __name__ == "__main__":
    main()
