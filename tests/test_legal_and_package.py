"""`crosstalk teams-package` takes its app id and address from MICROSOFT_APP_ID and
CROSSTALK_PUBLIC_URL when the flags are not given (SPEC "Command line"), and the privacy
and terms links it writes are pages the server serves: GET /privacy and GET /terms, plain
HTML under a Content-Security-Policy, with the config's text or a default that says what
Crosstalk stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.org import ORG_TOML
from bot.demo.standins.harness import Server
from config.load import ConfigError, parse_config

APP_ID = "0b9a7d52-3b1e-4c8e-9a57-2f3c1e5d7a10"
ROOT = Path(__file__).resolve().parent.parent


def _manifest(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as zf:
        manifest: dict[str, object] = json.loads(zf.read("manifest.json"))
    return manifest


def test_package_defaults_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("CROSSTALK_PUBLIC_URL", "https://crosstalk.acme.com/")
    out = tmp_path / "app.zip"
    assert main(["teams-package", "--out", str(out)]) == 0
    manifest = _manifest(out)
    assert manifest["id"] == APP_ID
    assert manifest["developer"] == {
        "name": "Crosstalk",
        "websiteUrl": "https://crosstalk.acme.com",
        "privacyUrl": "https://crosstalk.acme.com/privacy",
        "termsOfUseUrl": "https://crosstalk.acme.com/terms",
    }
    # the flags win over the environment
    other = "https://bot.example.org"
    assert main(["teams-package", "--url", other, "--out", str(out)]) == 0
    assert _manifest(out)["validDomains"] == ["bot.example.org"]
    capsys.readouterr()
    monkeypatch.setenv("CROSSTALK_PUBLIC_URL", "http://crosstalk.acme.com")
    assert main(["teams-package", "--out", str(tmp_path / "bad.zip")]) == 2
    assert "(--url or CROSSTALK_PUBLIC_URL) must be the public https address" in (
        capsys.readouterr().err
    )


def test_without_flags_or_environment_both_are_named(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MICROSOFT_APP_ID", "CROSSTALK_PUBLIC_URL")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "teams-package", "--out", str(tmp_path / "x.zip")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "crosstalk teams-package: give --app-id (or set MICROSOFT_APP_ID) and --url (or set"
        " CROSSTALK_PUBLIC_URL)",
        "usage: crosstalk teams-package [--app-id ID] [--url https://HOST] [--out ZIP]",
    ]
    assert not (tmp_path / "x.zip").exists()
    env["MICROSOFT_APP_ID"] = APP_ID
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "teams-package", "--out", str(tmp_path / "x.zip")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "crosstalk teams-package: give --url (or set CROSSTALK_PUBLIC_URL)\n"
    )


async def test_the_linked_pages_are_served_with_a_csp(tmp_path: Path) -> None:
    async with Server(f"sqlite:///{tmp_path}/c.db") as server:
        assert server.http is not None
        for page, words in (
            ("privacy", ["text of each message someone flags", "interpretations", "Timings",
                         "Labels", "deleted 7 days after", "Contact"]),
            ("terms", ["Terms of use: Crosstalk at Acme", "Apache License 2.0"]),
        ):  # fmt: skip
            async with server.http.get(f"{server.url}/{page}") as resp:
                assert resp.status == 200
                assert resp.content_type == "text/html"
                csp = resp.headers["Content-Security-Policy"]
                assert csp.startswith("default-src 'none'; style-src 'sha256-")
                assert "frame-ancestors 'none'" in csp
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                body = await resp.text()
            assert body.startswith('<!doctype html>\n<html lang="en">')
            assert "<script" not in body
            for word in words:
                assert word in body, (page, word)


async def test_configured_text_is_shown_as_text(tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("## Our terms\nBe <b>kind</b>.\n\nThat is all.", encoding="utf-8")
    toml = ORG_TOML + (
        '\n[legal]\ncontact = "privacy@acme.com"\n'
        'privacy = "We keep flags for a year. <script>alert(1)</script>"\n'
        f'terms_file = "{terms}"\n'
    )
    async with Server(f"sqlite:///{tmp_path}/c.db", config_toml=toml) as server:
        assert server.http is not None
        async with server.http.get(f"{server.url}/privacy") as resp:
            privacy = await resp.text()
        async with server.http.get(f"{server.url}/terms") as resp:
            served_terms = await resp.text()
    assert "<p>We keep flags for a year. &lt;script&gt;alert(1)&lt;/script&gt;</p>" in privacy
    assert "<script>" not in privacy
    assert "<h2>Our terms</h2>\n<p>Be &lt;b&gt;kind&lt;/b&gt;.</p>\n<p>That is all.</p>" in (
        served_terms
    )


def test_legal_config_problems_are_named(tmp_path: Path) -> None:
    for extra, problem in (
        ('privacy = "x"\nprivacy_file = "p.txt"', "legal: give privacy or privacy_file, not both"),
        (f'terms_file = "{tmp_path}/missing.txt"', "legal: terms_file: cannot read"),
        ('privacy = ""', "legal.privacy: String should have at least 1 character"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_config(ORG_TOML + f"\n[legal]\n{extra}\n", "x.toml")
        assert any(p.startswith(problem) for p in info.value.problems), info.value.problems
