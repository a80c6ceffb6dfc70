"""Hostile Markdown bodies and embeds, ingested, rendered and run in headless Chromium.

Each payload would set a marker on `window` (and change `document.title`) if any script ran.
The rendered HTML is inserted into a page *without* a Content-Security-Policy, as a contextual
fragment (which runs `<script>` too), so the sanitizer is the only defence being tested. The
same payloads are inserted unsanitized beside them as controls: the test waits until every
control that this browser executes has fired, which proves both that the payloads are live
attacks and that the clean ones had the same chance to run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from selenium.webdriver.chrome.webdriver import WebDriver

from newsgraph.ingest.render import DEFAULT_EMBED_HOSTS, EMBED_SANDBOX, sanitize_embed
from newsgraph.ingest.scan import ScanSummary
from tests.conftest import WriteArticle
from tests.test_demo_page import browser, wait_until

if TYPE_CHECKING:
    from tests.live_fixtures import LiveApp

pytest_plugins = ["tests.live_fixtures"]
__all__ = ["browser"]

RUN = "window.top.__hits.push('{id}')"
OWN = ";window.top.document.title='owned'"
UNREACHABLE_IMAGE = "https://img.invalid/x.png"  # an allowed URL whose load fails at once
# name -> (payload, whether Chromium runs it when inserted raw, clicks included). `{run}` is
# the script, `{encoded}` the same with its quotes as character references, `{image}` an image
# URL the sanitizer keeps (so that an `onerror` would fire if it were kept too).
PAYLOADS: dict[str, tuple[str, bool]] = {
    "script": ("<script>{run}</script>", True),
    "img-onerror": ('<img src="{image}" onerror="{run}">', True),
    "video-onerror": ('<video src="{image}" onerror="{run}"></video>', True),
    "details-ontoggle": ('<details open ontoggle="{run}"><summary>s</summary></details>', True),
    "input-autofocus": ('<input autofocus onfocus="{run}">', True),
    "javascript-link": ('<a href="javascript:{run}">link</a>', True),
    "entity-encoded-link": ('<a href="&#106;avascript&#58;{encoded}">link</a>', True),
    "tab-in-scheme-link": ('<a href="jav&#x09;ascript:{run}">link</a>', True),
    "iframe-javascript": ('<iframe src="javascript:{run}"></iframe>', True),
    "iframe-srcdoc": ('<iframe srcdoc="<script>{encoded}</script>"></iframe>', True),
    "form-action": ('<form action="javascript:{run}"><button>go</button></form>', True),
    "svg-animate-href": (
        '<svg><a><animate attributeName="href" values="javascript:{run}"/>'
        '<text y="20">x</text></a></svg>',
        True,
    ),
    "svg-onload": ('<svg onload="{run}"></svg>', False),
    "svg-script": ("<svg><script>{run}</script></svg>", False),
    "mathml-mutation": (
        '<math><mtext><table><mglyph><style><img src="{image}" onerror="{run}">'
        "</style></mtext></math>",
        False,
    ),
    "style-url": ('<div style="background:url(javascript:{run})">x</div>', False),
    "meta-refresh": ('<meta http-equiv="refresh" content="0;url=javascript:{run}">', False),
    "object-data": ('<object data="data:text/html,<script>{run}</script>"></object>', False),
}
# featuredContent-style embeds: only the YouTube player may stay (sandboxed, no content).
EMBEDS: dict[str, str] = {
    "embed-other-host": '<iframe src="https://evil.example/x" onload="{run}"></iframe>',
    "embed-srcdoc": (
        '<iframe src="https://www.youtube.com/embed/x" srcdoc="<script>{encoded}</script>">'
        "</iframe>"
    ),
    "embed-fallback": (
        '<iframe src="https://evil.example/x"><img src="{image}" onerror="{run}"></iframe>'
    ),
    "embed-javascript": '<iframe src="javascript:{run}"></iframe>',
}
INSERT = """
const [name, html] = arguments;
const box = document.createElement('div');
box.dataset.name = name;
document.body.append(box);
box.append(document.createRange().createContextualFragment(html));
"""
CLICK_EVERYTHING = """
for (const target of (arguments[0] || document).querySelectorAll('a, button, svg text')) {
  target.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));
}
"""


def hostile(name: str, payload: str, marker: str, *, retitle: bool = True) -> str:
    """The payload with a script that records `marker + name` (and, to be seen, retitles)."""
    run = RUN.replace("{id}", marker + name) + (OWN if retitle else "")
    return payload.format(run=run, encoded=run.replace("'", "&#39;"), image=UNREACHABLE_IMAGE)


def rendered_bodies(address: str) -> dict[str, str]:
    query = "{ articles(first: 100) { edges { node { path html } } } }"
    response = httpx.post(f"http://{address}/graphql", json={"query": query}, timeout=30)
    edges = response.json()["data"]["articles"]["edges"]
    return {edge["node"]["path"].split("/")[-1][:-3]: edge["node"]["html"] for edge in edges}


def test_no_hostile_body_or_embed_runs_script_in_a_browser(
    live_server: Callable[..., LiveApp],
    write_article: WriteArticle,
    ingest: Callable[..., ScanSummary],
    browser: WebDriver,
) -> None:
    for number, (name, (payload, _runs)) in enumerate(PAYLOADS.items()):
        write_article(
            f"hostile/{name}.md",
            title=f"Hostile {name}",
            webUrl=f"https://example.com/hostile/{number}",
            body=f"Before {name}.\n\n{hostile(name, payload, 'clean-')}\n\nAfter.\n",
        )
    assert ingest().new == len(PAYLOADS)
    live = live_server()
    clean = rendered_bodies(live.address)
    assert set(clean) == set(PAYLOADS)
    for name, html in clean.items():
        assert f"Before {name}." in html, (name, html)
    for name, embed in EMBEDS.items():
        clean[name] = sanitize_embed(hostile(name, embed, "clean-"), DEFAULT_EMBED_HOSTS)
    assert clean["embed-srcdoc"] == (
        f'<iframe src="https://www.youtube.com/embed/x" sandbox="{EMBED_SANDBOX}"></iframe>'
    )

    browser.get("about:blank")
    browser.execute_script("window.__hits = []; document.title = 'untouched';")
    for name, html in clean.items():
        browser.execute_script(INSERT, name, html)
    controls = {name: payload for name, (payload, runs) in PAYLOADS.items() if runs}
    for name, payload in controls.items():
        control = hostile(name, payload, "control-", retitle=False)
        browser.execute_script(INSERT, "control-" + name, control)
    browser.execute_script(CLICK_EVERYTHING, None)
    expected = {"control-" + name for name in controls}

    def hits(driver: WebDriver) -> set[str]:
        return {str(hit) for hit in driver.execute_script("return window.__hits;")}

    wait_until(browser, lambda d: expected <= hits(d), f"every control payload ran: {expected}")
    assert hits(browser) == expected  # nothing of the rendered content ran
    assert browser.title == "untouched"


def test_the_demo_page_shows_a_rendered_body_and_runs_none_of_a_hostile_one(
    live_server: Callable[..., LiveApp],
    write_article: WriteArticle,
    ingest: Callable[..., ScanSummary],
    browser: WebDriver,
) -> None:
    write_article(
        "a/guide.md",
        title="A guide",
        body="# Getting started\n\nRead **this** first.\n\n## Details\n\nMore.\n",
    )
    body = "\n\n".join(hostile(name, payload, "page-") for name, (payload, _) in PAYLOADS.items())
    write_article("a/hostile.md", title="Hostile", webUrl="https://example.com/h", body=body)
    ingest()
    live = live_server()
    browser.get(f"http://{live.address}/")
    browser.execute_script("window.__hits = [];")
    wait_until(browser, lambda d: len(d.find_elements("css selector", "a.read")) == 2, "links")
    title = browser.title

    browser.find_element("css selector", '.article[data-path="a/guide.md"] a.read').click()
    wait_until(browser, lambda d: d.execute_script("return document.body.dataset.article") ==
               "a/guide.md", "the article view")  # fmt: skip
    view = browser.find_element("id", "article-view")
    assert view.find_element("css selector", "h1#getting-started").text == "Getting started"
    assert view.find_element("css selector", "h2#details").text == "Details"
    assert view.find_element("css selector", ".rendered strong").text == "this"
    toc = [b.text for b in view.find_elements("css selector", ".toc button")]
    assert toc == ["Getting started", "Details"]
    assert "7 words" in view.find_element("css selector", ".meta").text

    browser.get(f"http://{live.address}/#article=a%2Fhostile.md")
    browser.execute_script("window.__hits = [];")
    wait_until(browser, lambda d: d.execute_script("return document.body.dataset.article") ==
               "a/hostile.md", "the hostile article's view")  # fmt: skip
    browser.execute_script(CLICK_EVERYTHING, browser.find_element("id", "article-content"))
    # A marker of the page's own: set after the view, proving scripts run and events arrive.
    browser.execute_script("setTimeout(() => window.__hits.push('page-ready'), 50);")
    wait_until(browser, lambda d: d.execute_script("return window.__hits.length") > 0, "ready")
    assert browser.execute_script("return window.__hits;") == ["page-ready"]
    assert browser.title == title
    log = browser.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves it bare
    assert [entry for entry in log if "Content Security Policy" in entry["message"]] == []
