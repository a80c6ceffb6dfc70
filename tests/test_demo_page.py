"""The live demo page in headless Chromium against a real server that watches a real folder.

Needs Debian's `chromium` and `chromium-driver` (`make test` installs them when it can). Without
them this test is skipped with a notice, except in CI (`CI=true`), where that is a failure.
Selenium is pointed at both binaries, so Selenium Manager never downloads anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import WriteArticle

if TYPE_CHECKING:  # imported by pytest as a plugin, so that its asserts are rewritten
    from tests.live_fixtures import LiveApp

pytest_plugins = ["tests.live_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TIMEOUT = 15.0
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1200,900",
    # Article images point at other hosts: fail those look-ups at once, offline or not.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)  # fmt: skip


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        reason = (
            f"browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} "
            "missing); `make test` installs them when run as root with apt-get"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(CHROMIUM)
    options.page_load_strategy = "eager"  # the list is filled by script; images may never load
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def texts(driver: WebDriver, selector: str) -> list[str]:
    """The text of every match, read in one script call (the list re-renders under us)."""
    found = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);", selector
    )
    assert isinstance(found, list)
    return [str(text) for text in found]


def titles(driver: WebDriver) -> list[str]:
    return texts(driver, "#articles .title")


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> None:
    WebDriverWait(driver, TIMEOUT, poll_frequency=0.05).until(condition, f"timed out: {what}")


def at(day: int) -> datetime:
    return datetime(2024, 3, day, 9, 0, tzinfo=UTC)


def test_demo_page_lists_searches_filters_and_shows_new_articles_live(
    live_server: Callable[..., LiveApp], write_article: WriteArticle, browser: WebDriver
) -> None:
    write_article(
        "a/robots.md",
        title="Robots sort recycling",
        publishedDateTime=at(1),
        topics=["Robotics", "Recycling"],
        body="Conveyor belts and robot arms.",
    )
    write_article(
        "a/fusion.md",
        title="Fusion reactor hits record",
        publishedDateTime=at(2),
        topics=["Energy"],
        provider={"name": "Science Daily", "domain": "sci.example"},
        webUrl="https://sci.example/fusion",
        body="A tokamak held its plasma.",
    )
    write_article("a/drones.md", title="Drones deliver parcels", publishedDateTime=at(3),
                  topics=["Drones", "Robotics"], webUrl="https://air.example/drones",
                  provider={"name": "Air News", "domain": "air.example"})  # fmt: skip
    live = live_server(watch=True)
    browser.get(f"http://{live.address}/")

    # Load: newest first, with provider and topics.
    expected = ["Drones deliver parcels", "Fusion reactor hits record", "Robots sort recycling"]
    wait_until(browser, lambda d: titles(d) == expected, "the three articles listed")
    assert texts(browser, "#articles .article:first-child .provider") == ["Air News"]
    assert texts(browser, "#articles .article:first-child .topic") == ["Drones", "Robotics"]
    images = texts(browser, "#articles .article:first-child img")
    assert len(images) == 1  # the article's first image (its host does not resolve here)
    wait_until(
        browser,
        lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "live",
        "the subscription is live",
    )

    # Search narrows the list.
    search = browser.find_element(By.ID, "search")
    search.send_keys("tokamak")
    wait_until(browser, lambda d: titles(d) == ["Fusion reactor hits record"], "search narrows")
    search.clear()
    search.send_keys(" ")  # `clear()` fires no input event; a blank search lists everything
    wait_until(browser, lambda d: titles(d) == expected, "an empty search lists all again")

    # Filtering by topic.
    wait_until(
        browser,
        lambda d: "Robotics" in [o.text for o in Select(d.find_element(By.ID, "topic")).options],
        "topics loaded into the filter",
    )
    Select(browser.find_element(By.ID, "topic")).select_by_visible_text("Robotics")
    robotics = ["Drones deliver parcels", "Robots sort recycling"]
    wait_until(browser, lambda d: titles(d) == robotics, "the topic filter narrows")

    # A new file appears at the top without a reload; its title is text, never markup.
    browser.execute_script("window.notReloaded = true;")
    title = "<b>Robot</b> chefs & <img src=x onerror=alert(1)> cooks"
    write_article("a/chefs.md", title=title, publishedDateTime=at(4), topics=["Robotics"],
                  webUrl="https://example.com/chefs")  # fmt: skip
    wait_until(browser, lambda d: titles(d)[:1] == [title], "the new article at the top")
    assert titles(browser)[1:] == robotics
    assert browser.execute_script("return window.notReloaded === true;")
    assert texts(browser, "#articles .title b, #articles .title img") == []
    # No script error and no policy violation (images of unresolvable hosts fail on the network).
    log = browser.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves it bare
    problems = [entry for entry in log if entry["source"] != "network"]
    assert problems == []
