"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser). Signs in by link, opens every page at desktop and phone width, and
checks the SVG charts, the console, the hosts asked and the page width; screenshots go to
/tmp/shots for a person to look at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot.core.refs import Platform, UserRef
from tests.web.seed import make_link, seeded_server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/shots")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (apt-get install -y chromium)",
)
# (path, charts it must draw)
PAGES = (
    ("/dashboard", 2),
    ("/dashboard/teams", 10),
    ("/dashboard/silos", 1),
    ("/dashboard/flags", 0),
    ("/dashboard/flags/2", 0),
)
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless=new"]
        )
        yield launched
        await launched.close()


class Watch:
    """What a page did that it should not: console errors, requests to another host."""

    def __init__(self, page: Page, origin: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.requests = 0
        own = urlsplit(origin).netloc

        def on_request(request: object) -> None:
            url = str(getattr(request, "url", ""))
            self.requests += 1
            if not url.startswith("data:") and urlsplit(url).netloc != own:
                self.foreign.append(url)

        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", on_request)


async def test_a_manager_signs_in_and_reads_every_page(sqlite_db: str, browser: Browser) -> None:
    async with seeded_server(sqlite_db) as seeded:
        server = seeded.server
        for name, (width, height) in WIDTHS.items():
            context = await browser.new_context(viewport={"width": width, "height": height})
            page = await context.new_page()
            watch = Watch(page, server.url)
            link = await make_link(server)
            await page.goto(link)
            await page.get_by_role("button", name="Sign in to the dashboard").click()
            await page.wait_for_url(server.url + "/dashboard")
            for path, charts in PAGES:
                response = await page.goto(server.url + path)
                assert response is not None and response.status == 200, path
                drawn = page.locator("svg.chart")
                assert await drawn.count() == charts, path
                for i in range(charts):
                    box = await drawn.nth(i).bounding_box()
                    assert box is not None and box["width"] > 100 and box["height"] > 50
                    assert await drawn.nth(i).get_attribute("role") == "img"
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{path} scrolls sideways at {width}px: {scroll}"
                shot = SHOTS / f"{name}{path.replace('/', '_')}.png"
                await page.screenshot(path=str(shot), full_page=True)
            assert watch.errors == []  # the refusals below log their status codes
            await page.keyboard.press("Tab")  # the skip link comes first
            focused = await page.evaluate("document.activeElement.textContent")
            assert focused == "Skip to content"
            used = await page.goto(link)
            assert used is not None and used.status == 410
            assert "already been used" in await page.content()
            await page.goto(server.url + "/dashboard")
            await page.get_by_role("button", name="Sign out").click()
            assert "Signed out" in await page.content()
            gone = await page.goto(server.url + "/dashboard")
            assert gone is not None and gone.status == 401
            assert watch.requests > len(PAGES)
            assert watch.foreign == []
            await context.close()


async def test_a_non_manager_is_refused(sqlite_db: str, browser: Browser) -> None:
    async with seeded_server(sqlite_db) as seeded:
        server = seeded.server
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        watch = Watch(page, server.url)
        await page.goto(await make_link(server, UserRef(Platform.SLACK, "U0ANN")))
        async with page.expect_response(lambda r: r.request.method == "POST") as answer:
            await page.get_by_role("button", name="Sign in to the dashboard").click()
        assert (await answer.value).status == 403
        assert "Managers only" in await page.content()
        await page.screenshot(path=str(SHOTS / "phone_refused.png"), full_page=True)
        refused = await page.goto(server.url + "/dashboard")
        assert refused is not None and refused.status == 401
        assert watch.foreign == []
        await page.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    SHOTS.mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path}/browser.db"
