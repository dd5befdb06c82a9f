"""Email throughput of the whole pipeline: SMTP in, the bot, SMTP out.

Starts the hub with its SMTP listener on a free local port and a relay (aiosmtpd)
in the same process, then N citizens each send M mails one after another, waiting
for the answer to each (matched by ``In-Reply-To``) before the next. Prints mails
per second and the latency from the end of the citizen's SMTP transaction to the
answer arriving at the relay.

    python bench/mail.py                    # SQLite in a temporary folder
    python bench/mail.py --citizens 20 --mails 10
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import socket
import statistics
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from hub.app import create_app
from hub.config import load_config
from hub.logs import configure_logging

HUB_ADDRESS = "layanan@mpp.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Relay:
    """Resolves the waiting citizen's future when the answer to their mail arrives."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        future = self.waiting.pop(str(mail.get("In-Reply-To", "")), None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
        return "250 OK"


async def _citizen(
    number: int, mails: int, hub_port: int, relay: Relay, latencies: list[float]
) -> None:
    sender = f"warga{number}@example.co.id"
    loop = asyncio.get_running_loop()
    for n in range(mails):
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = HUB_ADDRESS
        mail["Subject"] = f"Pertanyaan {n}"
        mail["Message-ID"] = make_msgid(domain="example.co.id")
        mail.set_content("Selamat pagi, jam buka MPP hari ini jam berapa ya?")
        answered: asyncio.Future[float] = loop.create_future()
        relay.waiting[str(mail["Message-ID"])] = answered
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=hub_port, start_tls=False)
        sent = time.perf_counter()
        latencies.append(await asyncio.wait_for(answered, 60) - sent)


async def run(storage_url: str, citizens: int, mails: int, model: Path) -> None:
    relay = Relay()
    loop = asyncio.get_running_loop()
    relay_server = await loop.create_server(
        lambda: SMTP(relay, hostname="relay.bench"), host="127.0.0.1", port=0
    )
    relay_port = int(relay_server.sockets[0].getsockname()[1])
    listen_port, http_port = _free_port(), _free_port()
    settings = load_config(
        None,
        storage={"url": storage_url},
        server={"host": "127.0.0.1", "port": http_port},
        nlu={"model_path": str(model)},
        channels={
            "email": {
                "enabled": True,
                "address": HUB_ADDRESS,
                "smtp": {"host": "127.0.0.1", "port": relay_port, "starttls": False},
                "listen": {"enabled": True, "port": listen_port},
                "attachments_dir": str(model.parent / "mail"),
            }
        },
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    latencies: list[float] = []
    try:
        await _citizen(-1, 1, listen_port, relay, [])  # warm up
        started = time.perf_counter()
        await asyncio.gather(
            *(_citizen(i, mails, listen_port, relay, latencies) for i in range(citizens))
        )
        elapsed = time.perf_counter() - started
    finally:
        await runner.cleanup()
        relay_server.close()
        await relay_server.wait_closed()
    total = citizens * mails
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"backend            {storage_url.split(':', 1)[0]}")
    print(f"citizens x mails   {citizens} x {mails} = {total} mails, {total} answers")
    print(f"wall time          {elapsed:.2f} s")
    print(f"throughput         {total / elapsed:.1f} mails/s")
    print(f"latency p50        {quantiles[49] * 1000:.1f} ms")
    print(f"latency p95        {quantiles[94] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--mails", type=int, default=10)
    args = parser.parse_args()
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.citizens, args.mails, Path(tmp) / "nlu.joblib"))


if __name__ == "__main__":
    main()
