"""The demo page's topic view in headless Chromium: one section per collection of a topic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.collection_fixtures import PERSON, write_site
from tests.conftest import WriteArticle
from tests.test_demo_page import browser, texts, wait_until

if TYPE_CHECKING:
    from tests.live_fixtures import LiveApp

pytest_plugins = ["tests.live_fixtures"]
__all__ = ["browser"]


def sections(driver: WebDriver) -> list[str]:
    return texts(driver, "#topic-view .collection h3")


def test_choosing_a_topic_shows_each_collection_of_it(
    live_server: Callable[..., LiveApp],
    write_article: WriteArticle,
    content_dir: Path,
    browser: WebDriver,
) -> None:
    write_site(content_dir)
    hostile = '<img src=x onerror="window.hacked=1">Eve'
    (content_dir / "_people/eve.md").write_text(
        PERSON.replace('name: "Ada Example"', f"name: '{hostile}'"), encoding="utf-8"
    )
    write_article("a/robots.md", title="Robots sort recycling", topics=["Robotics"])
    live = live_server(watch=True)
    browser.get(f"http://{live.address}/")
    wait_until(
        browser,
        lambda d: "Robotics" in [o.text for o in Select(d.find_element(By.ID, "topic")).options],
        "topics loaded into the filter",
    )
    assert browser.find_element(By.ID, "topic-view").get_attribute("hidden") is not None
    Select(browser.find_element(By.ID, "topic")).select_by_visible_text("Robotics")
    wait_until(browser, lambda d: len(sections(d)) == 4, "the four collection sections")
    assert sections(browser) == [
        "Events (1)", "People (2)", "Organizations (0)", "Learning (2)"
    ]  # fmt: skip
    assert texts(browser, "#topic-view [data-collection=events] .name") == ["Robotics Summit 2030"]
    people = texts(browser, "#topic-view [data-collection=people] .name")
    assert sorted(people) == sorted(["Ada Example", hostile])  # text, never markup
    assert texts(browser, "#topic-view img") == []
    assert not browser.execute_script("return window.hacked === 1;")
    notes = texts(browser, "#topic-view [data-collection=people] .note")
    assert any(note.startswith("Sorters Inc · ") for note in notes)  # the linked organization
    assert texts(browser, "#topic-view .facets") == ["By kind: collection 1, video 1"]
    # The article list is filtered as before, and choosing "All topics" hides the view.
    wait_until(
        browser, lambda d: texts(d, "#articles .title") == ["Robots sort recycling"], "articles"
    )
    Select(browser.find_element(By.ID, "topic")).select_by_visible_text("All topics")
    wait_until(
        browser,
        lambda d: d.find_element(By.ID, "topic-view").get_attribute("hidden") is not None,
        "the topic view hidden again",
    )
    log = browser.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves it bare
    assert [entry for entry in log if entry["source"] != "network"] == []
