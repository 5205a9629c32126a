"""`crosstalk teams-package`: a zip Teams accepts: manifest fields, the bot, the message
action, the RSC permission, and PNG icons of the sizes Teams requires."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.cli import main

APP_ID = "00000000-0000-0000-0000-00000000b07a"


def png_info(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, color type, rows) of an 8-bit unfiltered PNG, read back by hand."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    rows = [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    return width, height, color, rows


def test_the_package_is_a_valid_teams_app(tmp_path: Path) -> None:
    out = tmp_path / "crosstalk.zip"
    assert (
        main(
            [
                "teams-package",
                "--app-id",
                APP_ID,
                "--url",
                "https://bot.acme.com",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        color = png_info(zf.read("color.png"))
        outline = png_info(zf.read("outline.png"))

    assert manifest["manifestVersion"] == "1.17" and "v1.17" in manifest["$schema"]
    assert manifest["id"] == APP_ID and manifest["version"]
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and "team" in bot["scopes"]
    [extension] = manifest["composeExtensions"]
    [command] = extension["commands"]
    assert extension["botId"] == APP_ID
    assert command == {
        "id": "flagForStakeholders",
        "type": "action",
        "title": "Flag for stakeholders",
        "description": command["description"],
        "context": ["message"],
        "fetchTask": True,
    }
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}
    ]
    assert manifest["validDomains"] == ["bot.acme.com"]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith("https://bot.acme.com")

    width, height, kind, _ = color
    assert (width, height, kind) == (192, 192, 6)
    width, height, kind, rows = outline
    assert (width, height, kind) == (32, 32, 6)
    pixels = {row[i : i + 4] for row in rows for i in range(0, len(row), 4)}
    # The outline icon: white on transparent, and nothing else.
    assert pixels == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--app-id", "crosstalk", "--url", "https://bot.acme.com"], "GUID"),
        (["--app-id", APP_ID, "--url", "http://bot.acme.com"], "https"),
    ],
)
def test_bad_options_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    out = tmp_path / "x.zip"
    assert main(["teams-package", *args, "--out", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists()
