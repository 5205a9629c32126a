"""`crosstalk teams-package`: the Teams app package (manifest.json and two icons, zipped),
ready to upload in Teams or the Developer Portal.

The manifest declares the bot, the message action "Flag for stakeholders" and the
resource-specific consent permission ChannelMessage.Read.Group, without which the bot sees
channel replies only when @mentioned. The icons are drawn here (PNG by zlib and struct),
so the package needs no image files or libraries.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.adapters.teams.translate import FLAG_COMMAND
from config.settings import Settings

MANIFEST_VERSION = "1.17"
APP_VERSION = "1.0.0"
ACCENT = (79, 70, 229)  # indigo
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
Pixel = tuple[int, int, int, int]
USAGE = "usage: crosstalk teams-package [--app-id ID] [--url https://HOST] [--out ZIP]"


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG, 8 bits per channel, each row unfiltered."""
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("4B", *pixel(x, y)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _mark(x: float, y: float, size: int) -> bool:
    """The Crosstalk mark: a broadcast dot inside two rings, in a unit of `size`."""
    r = math.hypot(x - size / 2, y - size / 2) / size
    return r < 0.09 or 0.2 < r < 0.27 or 0.34 < r < 0.41


def color_icon(size: int = 192) -> bytes:
    def pixel(x: int, y: int) -> Pixel:
        return (255, 255, 255, 255) if _mark(x + 0.5, y + 0.5, size) else (*ACCENT, 255)

    return png(size, size, pixel)


def outline_icon(size: int = 32) -> bytes:
    """White on transparent, as Teams requires of the outline icon."""

    def pixel(x: int, y: int) -> Pixel:
        return (255, 255, 255, 255) if _mark(x + 0.5, y + 0.5, size) else (0, 0, 0, 0)

    return png(size, size, pixel)


def chosen(app_id: str | None, url: str | None, *, settings: Settings) -> tuple[str, str]:
    """The flags, else MICROSOFT_APP_ID and CROSSTALK_PUBLIC_URL (SPEC "Command line")."""
    app_id = app_id or settings.microsoft_app_id
    url = url or settings.public_url
    missing = [
        name
        for name, value in (
            ("--app-id (or set MICROSOFT_APP_ID)", app_id),
            ("--url (or set CROSSTALK_PUBLIC_URL)", url),
        )
        if not value
    ]
    if missing:
        raise ValueError("give " + " and ".join(missing))
    return app_id, url


def manifest(app_id: str, url: str) -> dict[str, Any]:
    """The manifest; its website, privacy and terms links follow `url`, the server's public
    address, which serves /privacy and /terms itself (bot/legal.py)."""
    if not _GUID.match(app_id):
        raise ValueError(
            "the app id (--app-id or MICROSOFT_APP_ID) must be the bot's Microsoft App ID"
            f" (a GUID), not {app_id!r}"
        )
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError(
            "the address (--url or CROSSTALK_PUBLIC_URL) must be the public https address of"
            f" the server, not {url!r}"
        )
    base = url.rstrip("/")
    return {
        "$schema": "https://developer.microsoft.com/en-us/json-schemas/teams/"
        f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json",
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": "Crosstalk",
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": "Crosstalk", "full": "Crosstalk: customer knowledge across teams"},
        "description": {
            "short": "Flag customer conversations to every team they concern.",
            "full": "Flag a customer conversation and Crosstalk broadcasts it to every internal "
            "team it concerns, collects each team's interpretation in the thread, times how "
            "fast each team responds, and reports what it is worth (@Crosstalk roi).",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "groupChat", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["team", "groupChat", "personal"],
                        "commands": [
                            {"title": "flag", "description": "In a reply: flag its thread"},
                            {"title": "roi", "description": "roi [period] [team], for managers"},
                        ],
                    }
                ],
            }
        ],
        "composeExtensions": [
            {
                "botId": app_id,
                "commands": [
                    {
                        "id": FLAG_COMMAND,
                        "type": "action",
                        "title": "Flag for stakeholders",
                        "description": "Send this customer message to the teams it concerns",
                        "context": ["message"],
                        "fetchTask": True,
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [parsed.hostname],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{parsed.hostname}/{app_id}"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]
            }
        },
    }


def package_bytes(app_id: str, url: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest(app_id, url), indent=2) + "\n")
        zf.writestr("color.png", color_icon())
        zf.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def write_package(out: str | Path, *, app_id: str, url: str) -> Path:
    path = Path(out)
    path.write_bytes(package_bytes(app_id, url))
    return path
