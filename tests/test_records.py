"""Records cross process boundaries (parse workers -> writer): they must pickle losslessly."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from newsgraph.db.records import (
    ArticleRecord,
    ErrorRecord,
    FileOutcome,
    FileStamp,
    ImageRecord,
    ProviderRecord,
    RelatedRecord,
    SkipRecord,
)


def test_every_record_survives_a_pickle_round_trip() -> None:
    image = ImageRecord(url="https://img.example/1.jpg", width=800, height=600, is_cached=True)
    provider = ProviderRecord(name="Example", domain="example.com", images=(image,))
    related = RelatedRecord(web_url="https://other.example/", title="Other", provider=provider)
    article = ArticleRecord(
        path="_news/a.md", slug="a", title="A", web_url="https://example.com/a",
        published_at=datetime(2024, 3, 1, 8, 15, tzinfo=UTC), provider=provider,
        topics=("AI",), images=(image,), related=(related,), extra={"sponsor": {"name": "x"}},
        warnings=("line 3: duplicate key 'title' (the last value wins)",),
    )  # fmt: skip
    stamp = FileStamp(path="_news/a.md", size=10, mtime_ns=20, sha256="ab")
    records: list[object] = [
        image, provider, related, article, stamp,
        FileOutcome(stamp=stamp, article=article),
        FileOutcome(stamp=stamp, skip=SkipRecord(path="p.md", reason="front matter has no title")),
        FileOutcome(stamp=stamp, error=ErrorRecord(path="e.md", message="bad", line=2, column=3)),
    ]  # fmt: skip
    for record in records:
        assert pickle.loads(pickle.dumps(record)) == record
