"""The real corpus served whole: every collection's counts, typed fields and links."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.db.connection import open_writer
from newsgraph.db.writes import Writer
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.scan import reconcile
from tests.conftest import CORPUS
from tests.gql_fixtures import Api, serving

BOOSTING = (
    "_learning/videos/edureka-boosting-machine-learning-tutorial-adaptive-boosting-"
    "gradient-boosting-xgboost-edureka.md"
)
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


@pytest.fixture(scope="module")
def corpus_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    db_path = tmp_path_factory.mktemp("corpus") / "corpus.db"
    conn = open_writer(db_path)
    pipeline = Pipeline(CORPUS, Writer(conn), workers=1)
    summary = reconcile(pipeline)
    pipeline.close()
    conn.close()
    # The one error left is genuinely malformed: front matter that never closes.
    assert (summary.errors, summary.skipped) == (1, 0)
    app = create_app(Settings(content=CORPUS, db=db_path, watch=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(client, app.state.pool)


def test_every_collection_is_served_with_its_count(corpus_api: Api) -> None:
    data = corpus_api.query(
        "{ articles { totalCount } events { totalCount } people { totalCount } "
        "organizations { totalCount } learningResources { totalCount } "
        "books: learningResources(filter: {kinds: [BOOK, COURSE, COLLECTION]}) { totalCount } "
        "free: learningResources(filter: {free: true}) { totalCount } }"
    )
    counts = {name: value["totalCount"] for name, value in data.items()}
    assert counts == {
        "articles": 164, "events": 12, "people": 6, "organizations": 7,
        "learningResources": 10, "books": 6, "free": 6,
    }  # fmt: skip


def test_corpus_fields_are_typed(corpus_api: Api) -> None:
    data = corpus_api.query(
        """{ event(path: "_events/2020-07-12-rss-2020.md") { name startDate endDate location
               website provider { domain } topics { name } }
             course: learningResource(path: "_learning/courses/coursera-ai-for-everyone.md") {
               kind price free length lengthSeconds levels ratings { count average } publishers }
             video: learningResource(
               path: "_learning/videos/dotnet-mlnet-introduction-mlnet-2-of-8.md") {
               kind lengthSeconds publishedAt featuredContent }
             organization(path: "_companies/ada.md") { name size yearFounded locations
               linkedin { followers } twitter { username } videos }
        }"""
    )
    event = data["event"]
    assert event["startDate"] == "2020-07-12T16:00:00.000000Z"
    assert event["endDate"] == "2020-07-17T02:00:00.000000Z"
    assert (event["location"], event["provider"]["domain"]) == ("Online", "roboticsconference.org")
    course = data["course"]
    assert (course["kind"], course["price"], course["free"]) == ("COURSE", "Free+", True)
    assert (course["length"], course["lengthSeconds"]) == ("9 hours", None)
    assert course["ratings"] == {"count": 7203, "average": 4.8}
    assert course["publishers"] == ["deeplearning.ai"]
    video = data["video"]
    assert (video["kind"], video["lengthSeconds"]) == ("VIDEO", 614)
    assert 'src="https://www.youtube.com/embed/83kEkJEXQnY"' in video["featuredContent"]
    assert "sandbox=" in video["featuredContent"]
    organization = data["organization"]
    assert (organization["size"], organization["yearFounded"]) == ("201-500 employees", 2011)
    assert organization["linkedin"]["followers"] == 8484 and organization["videos"]


def test_corpus_links_resolve_both_ways(corpus_api: Api) -> None:
    data = corpus_api.query(
        """query($boosting: String!) { person(path: "_people/alex-smola.md") { affiliation { domain
               organization { path } } }
             organization(path: "_companies/amazon.md") { people { path } }
             edureka: learningResource(
               path: "_learning/collections/edureka-machine-learning-tutorial-in-python-edureka.md"
             ) { items { path } }
             boosting: learningResource(path: $boosting) { includedIn { path } }
             topic(name: "AI") { events { totalCount } people { totalCount }
               organizations { totalCount } learningResources { totalCount } }
        }""",
        boosting=BOOSTING,
    )
    person = data["person"]["affiliation"]
    assert person == {"domain": "aws.amazon.com", "organization": {"path": "_companies/amazon.md"}}
    assert data["organization"]["people"] == [{"path": "_people/alex-smola.md"}]
    # 45 items are listed; one of them is in the corpus.
    boosting = BOOSTING
    assert data["edureka"]["items"] == [{"path": boosting}]
    assert data["boosting"]["includedIn"] == [
        {"path": "_learning/collections/edureka-machine-learning-tutorial-in-python-edureka.md"}
    ]
    topic = {name: value["totalCount"] for name, value in data["topic"].items()}
    assert all(count > 0 for count in topic.values()), topic


def test_corpus_search_finds_several_collections(corpus_api: Api) -> None:
    found = corpus_api.query(
        '{ search(query: "machine learning", first: 100) { edges { collection } } }'
    )
    collections = {edge["collection"] for edge in found["search"]["edges"]}
    assert {"ARTICLE", "LEARNING", "PERSON", "EVENT"} <= collections
