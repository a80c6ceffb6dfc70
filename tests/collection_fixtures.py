"""Our own small site with every collection (never the corpus's text), for unit and API tests."""

from __future__ import annotations

from pathlib import Path

EVENT = """---
name: "Robotics Summit 2030"
excerpt: "Three days of robot demos."
type: conference
startDateTime: 2030-05-04T09:00:00-07:00
endDateTime: 2030-05-06T17:00:00-07:00
location: Oakland, CA
website: https://summit.example.org/
provider:
  name: Summit Org
  domain: summit.example.org
topics:
  - Robotics
tags:
  - Industry
---
Come and see **robots**.
"""

PAST_EVENT = """---
name: "Vision Workshop 2019"
type: workshop
startDateTime: 2019-02-01T09:00:00Z
location: Online
topics: [Computer Vision]
---
"""

PERSON = """---
name: "Ada Example"
bio: "Builds sorting robots."
location: Lisbon
type: profile
heat: 80
affiliation:
  name: Sorters
  domain: sorters.example.com
website: https://ada.example.net/
twitter:
  username: adaex
  url: https://twitter.com/adaex
  followers: 1200
googleScholar:
  url: https://scholar.example.org/ada
  citations: 345
topics:
  - Robotics
  - Recycling
---
"""

ORGANIZATION = """---
name: "Sorters Inc"
overview: "Sorting lines that learn."
type: profile
heat: 40
website: https://www.sorters.example.com/
locations:
  - Porto
  - Lisbon
size: 11-50 employees
yearFounded: 2021
funding:
  status: Seed
linkedin:
  url: https://linkedin.example.com/sorters
  followers: 99
videos:
  - url: https://video.example.com/watch?v=1
topics:
  - Recycling
---
"""

VIDEO = """---
title: "Sorting with Vision, part 1"
excerpt: "A first look at camera-guided sorting."
originalUrl: https://video.example.com/watch?v=2
type: video
price: Free
length: PT12M30S
publishedDateTime: 2029-01-02T03:04:05Z
heat: 30
featuredContent: "<iframe src=\\"https://www.youtube.com/embed/abc\\"></iframe>"
provider:
  name: Sorters
  domain: sorters.example.com
levels: [Beginner]
topics: [Robotics]
---
"""

BOOK = """---
title: "Robots That Recycle"
webUrl: https://books.example.com/robots-that-recycle
type: book
price: $24.00
length: 320 pages
ratings:
  count: 12
  average: 4.5
provider:
  name: Books
  domain: books.example.com
  authors:
    - name: Ada Example
levels: [Intermediate, Advanced]
topics: [Recycling]
---
"""

COLLECTION = """---
title: "Learn Robot Sorting"
type: collection
items:
  - videos/sorting-part-1
  - books/robots-that-recycle
  - videos/not-written-yet
topics: [Robotics]
---
"""

SITE = {
    "_events/2030-05-04-robotics-summit.md": EVENT,
    "_events/2019-02-01-vision-workshop.md": PAST_EVENT,
    "_people/ada-example.md": PERSON,
    "_companies/sorters.md": ORGANIZATION,
    "_learning/videos/sorting-part-1.md": VIDEO,
    "_learning/books/robots-that-recycle.md": BOOK,
    "_learning/collections/learn-robot-sorting.md": COLLECTION,
}


def write_site(root: Path) -> None:
    """Write every collection file of `SITE` under `root`."""
    for relpath, text in SITE.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
