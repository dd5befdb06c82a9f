"""Attachments of inbound mail, kept on disk and served by an unguessable URL.

Other providers keep a citizen's photo and hand us a URL; mail carries the bytes
itself, so the hub keeps them. The URL's token is a hash of the mail's id and the
file's own bytes: the same mail offered twice (an IMAP restart, a retrying MTA)
writes the same file, and nobody can guess a token without having the file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from hub.channels.email.parse import safe_filename

ROUTE = "/media/mail/{token}/{name}"
PREFIX = "/media/mail/"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
SAFE_NAME = re.compile(r"[^\w.() -]+", re.UNICODE)
SHOWN_INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}
"""Types a browser may show in place; anything else is offered as a download, so a
citizen's HTML or SVG file never runs in the console's origin."""


def safe_name(filename: str, content_type: str) -> str:
    """A file name that is one path segment of plain characters (for the disk and the
    URL), never empty."""
    name = SAFE_NAME.sub("_", safe_filename(filename)).strip(" .")
    if not name:
        name = "lampiran." + (content_type.partition("/")[2].split("+")[0] or "bin")
    return name[:120]


class MailFiles:
    def __init__(self, directory: Path, public_url: str) -> None:
        self.directory = directory
        self.public_url = public_url.rstrip("/")

    def save(
        self, message_id: str, index: int, filename: str, content_type: str, data: bytes
    ) -> str:
        """Write one attachment (idempotently) and return its public URL."""
        digest = hashlib.sha256(f"{message_id}\n{index}\n".encode() + data).hexdigest()[:32]
        name = safe_name(filename, content_type)
        folder = self.directory / digest
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if not path.exists():
            partial = folder / f".{name}.part"
            partial.write_bytes(data)
            partial.replace(path)
        return f"{self.public_url}/media/mail/{digest}/{quote(name)}"

    def local_path(self, url: str) -> Path | None:
        """The file behind one of our attachment URLs (any public_url the hub had when it
        wrote it), for the retention purge; None for a URL that is not ours."""
        _, found, rest = urlsplit(url).path.partition(PREFIX)
        token, _, quoted = rest.partition("/")
        name = unquote(quoted)
        if not found or not TOKEN.match(token) or not name or name.startswith("."):
            return None
        if name != safe_name(name, ""):
            return None
        return self.directory / token / name

    async def serve(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = request.match_info["name"]
        if not TOKEN.match(token) or name != safe_name(name, "") or name.startswith("."):
            raise web.HTTPNotFound()
        path = self.directory / token / name
        if not path.is_file():
            raise web.HTTPNotFound()
        guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
        inline = guessed in SHOWN_INLINE
        disposition = "inline" if inline else "attachment"
        return web.FileResponse(
            path,
            headers={
                "Content-Type": guessed if inline else "application/octet-stream",
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, max-age=3600",
            },
        )
