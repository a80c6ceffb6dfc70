"""Rendering Markdown bodies and sanitizing embeds: what a reader's browser would receive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsgraph.db.records import HeadingRecord
from newsgraph.ingest.frontmatter import (
    FrontMatterNotClosed,
    normalise_newlines,
    split_front_matter,
)
from newsgraph.ingest.render import (
    DEFAULT_EMBED_HOSTS,
    EMBED_SANDBOX,
    WORDS_PER_MINUTE,
    render_body,
    sanitize_embed,
)

CORPUS = Path("/work/shared/corpus/smartable-ai")
YOUTUBE = (
    '<iframe width="800" height="500" frameborder="0" src="https://www.youtube.com/embed/abc123"'
    ' allow="autoplay; encrypted-media" allowfullscreen></iframe>'
)


def test_commonmark_renders_to_html() -> None:
    rendered = render_body("A *quiet* **start**.\n\n- one\n- two\n\n> quoted\n\n    code < 1\n")
    assert "<p>A <em>quiet</em> <strong>start</strong>.</p>" in rendered.html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in rendered.html
    assert "<blockquote>" in rendered.html
    assert "<pre><code>code &lt; 1\n</code></pre>" in rendered.html


def test_an_empty_body_renders_to_nothing() -> None:
    rendered = render_body("\n  \n")
    assert (rendered.html, rendered.headings, rendered.word_count) == ("", (), 0)
    assert (rendered.reading_time_minutes, rendered.plain_text) == (0, "")


def test_headings_get_stable_ids_that_the_html_carries() -> None:
    rendered = render_body(
        "# Launch *day*\n\n## Results\n\ntext\n\n## Results\n\n### Results 1\n\n"
        "## Résumé & notes!\n\n## !!!\n"
    )
    assert rendered.headings == (
        HeadingRecord(1, "Launch day", "launch-day"),
        HeadingRecord(2, "Results", "results"),
        HeadingRecord(2, "Results", "results-1"),
        HeadingRecord(3, "Results 1", "results-1-1"),
        HeadingRecord(2, "Résumé & notes!", "résumé-notes"),
        HeadingRecord(2, "!!!", "section"),
    )
    ids = re.findall(r'<h[1-6] id="([^"]*)">', rendered.html)
    assert ids == [heading.id for heading in rendered.headings]
    assert '<h1 id="launch-day">Launch <em>day</em></h1>' in rendered.html


def test_a_raw_heading_keeps_its_text_but_gets_our_id() -> None:
    rendered = render_body('<h2 id="main" onclick="steal()">Raw</h2>\n')
    assert rendered.html.strip() == '<h2 id="raw">Raw</h2>'


def test_links_get_rel_and_unsafe_urls_are_dropped() -> None:
    rendered = render_body(
        "[ok](https://example.com/a) [bad](javascript:alert(1)) [data](data:text/html,x) "
        "[mail](mailto:a@example.com) ![pic](data:image/png;base64,AAAA)\n"
    )
    assert '<a href="https://example.com/a" rel="noopener nofollow ugc">ok</a>' in rendered.html
    assert '<a href="mailto:a@example.com" rel="noopener nofollow ugc">mail</a>' in rendered.html
    assert "javascript" not in rendered.html and "data:" not in rendered.html
    assert rendered.html.count("<a ") == 4  # the bad links keep their text, lose their href


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)">x</a></svg>',
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)"></style></mtext></math>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<iframe src="https://www.youtube.com/embed/x"></iframe>',
        '<form action="https://evil.example"><input name="q"></form>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    ],
)
def test_hostile_html_in_a_body_is_neutralised(hostile: str) -> None:
    html = render_body(f"before\n\n{hostile}\n\nafter\n").html.lower()
    for needle in ("<script", "onerror", "onload", "javascript:", "<svg", "<math", "<iframe",
                   "<form", "<input", "style=", "<object", "<embed", "<meta"):  # fmt: skip
        assert needle not in html, (hostile, html)
    assert "before" in html  # (what follows an unclosed raw tag may be swallowed by it)


def test_plain_text_has_no_markdown_or_tags() -> None:
    rendered = render_body(
        "## The *plan*\n\nA **bold** [link](https://example.com) and `code` &amp; <b>raw</b>.\n"
    )
    assert rendered.plain_text == "The plan\nA bold link and code & raw."
    for syntax in ("*", "[", "](", "`", "<", "#", "&amp;"):
        assert syntax not in rendered.plain_text


def test_word_count_and_reading_time() -> None:
    words = " ".join(["word"] * (WORDS_PER_MINUTE + 1))
    rendered = render_body(f"# Title here\n\n{words} — done.\n")
    assert rendered.word_count == 2 + WORDS_PER_MINUTE + 1 + 1  # the dash is not a word
    assert rendered.reading_time_minutes == 2
    assert render_body("Just three words.\n").reading_time_minutes == 1


def test_a_youtube_embed_survives_sandboxed() -> None:
    html = sanitize_embed(YOUTUBE, DEFAULT_EMBED_HOSTS)
    assert html.startswith("<iframe ")
    assert 'src="https://www.youtube.com/embed/abc123"' in html
    assert f'sandbox="{EMBED_SANDBOX}"' in html
    assert "allow=" not in html.replace("allowfullscreen", "")


@pytest.mark.parametrize(
    "iframe",
    [
        '<iframe src="https://evil.example/embed/1"></iframe>',
        '<iframe src="http://www.youtube.com/embed/1"></iframe>',
        '<iframe src="https://www.youtube.com.evil.example/embed/1"></iframe>',
        '<iframe src="https://user@www.youtube.com/embed/1"></iframe>',
        '<iframe src="javascript:alert(1)"></iframe>',
        '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        "<iframe>fallback <img src=x onerror=alert(1)></iframe>",
    ],
)
def test_other_iframes_are_removed(iframe: str) -> None:
    assert sanitize_embed(f"<p>keep</p>{iframe}", DEFAULT_EMBED_HOSTS) == "<p>keep</p>"


def test_an_allowed_iframe_loses_handlers_content_and_its_own_sandbox() -> None:
    html = sanitize_embed(
        '<iframe src="https://player.vimeo.com/video/9" onload="alert(1)" sandbox="allow-top-'
        'navigation" srcdoc="x">fallback <img src=x onerror=alert(1)></iframe>',
        ["player.vimeo.com"],
    )
    assert html == (
        f'<iframe src="https://player.vimeo.com/video/9" sandbox="{EMBED_SANDBOX}"></iframe>'
    )


def test_embed_hosts_are_configurable() -> None:
    assert sanitize_embed(YOUTUBE, ["player.vimeo.com"]) == ""
    html = sanitize_embed('<iframe src="https://Media.Example/v/1"></iframe>', ["media.example"])
    assert 'src="https://Media.Example/v/1"' in html


def test_embeds_are_sanitized_like_bodies() -> None:
    html = sanitize_embed('<p onclick="x">Watch <a href="javascript:x">this</a><script>x</script>',
                          DEFAULT_EMBED_HOSTS)  # fmt: skip
    assert html == '<p>Watch <a rel="noopener nofollow ugc">this</a></p>'


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not on this machine")
def test_the_whole_corpus_renders() -> None:
    embeds = 0
    for path in sorted(CORPUS.rglob("*.md")):
        text = normalise_newlines(path.read_text(encoding="utf-8"))
        try:
            sections = split_front_matter(text)
        except FrontMatterNotClosed:  # the corpus's one truncated file: all of it as Markdown
            sections = None
        body = sections.body if sections is not None else text
        assert "<script" not in render_body(body).html
        # The whole file as Markdown too: YAML is a rough test of odd input.
        assert "<script" not in render_body(text).html
        for match in re.finditer(r'featuredContent: "(.*)"', text):
            embed = sanitize_embed(match.group(1).replace('\\"', '"'), DEFAULT_EMBED_HOSTS)
            assert embed.startswith("<iframe ") and "sandbox=" in embed, embed
            embeds += 1
    assert embeds > 0
