"""Word lists, and the headlines, excerpts and bodies made from them, for `newsgraph.demo`.

Written for this project: none of it comes from the real corpus. Publishers are fictional and
live under the reserved `.example` top-level domain (RFC 2606), so no generated URL points at a
real site and no real outlet is credited with an invented story. The vocabulary is topical on
purpose (quantum, robotics, climate, ...) so that full-text search over demo content finds
meaningful words.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Final

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def _words(text: str) -> tuple[str, ...]:
    """Split a `|`-separated list: short words pack many to a line, keeping this module small."""
    return tuple(word.strip() for word in text.split("|"))


#: (name, domain) of each fictional publisher.
PROVIDERS: Final[tuple[tuple[str, str], ...]] = (
    ("Northwind Ledger", "northwind-ledger.example"),
    ("The Circuit Review", "circuitreview.example"),
    ("Harbor Daily", "harbordaily.example"),
    ("Quantum Frontier", "quantumfrontier.example"),
    ("Signal & Noise", "signalnoise.example"),
    ("Aurora Tribune", "auroratribune.example"),
    ("Bitstream Weekly", "bitstream.example"),
    ("Cobalt Science", "cobaltscience.example"),
    ("The Data Desk", "datadesk.example"),
    ("Evergreen Post", "evergreenpost.example"),
    ("Fieldnotes", "fieldnotes.example"),
    ("Granite Business Wire", "granitewire.example"),
    ("Helix Health News", "helixhealth.example"),
    ("Ironclad Security", "ironclad-sec.example"),
    ("Juniper Tech", "junipertech.example"),
    ("Kestrel Media", "kestrelmedia.example"),
    ("Lighthouse Reports", "lighthouse-reports.example"),
    ("Meridian Times", "meridiantimes.example"),
    ("Nimbus Cloud Journal", "nimbusjournal.example"),
    ("Orbit Observer", "orbitobserver.example"),
    ("Pinecone Press", "pineconepress.example"),
    ("Quill & Code", "quillcode.example"),
    ("Riverbend Gazette", "riverbend.example"),
    ("Solstice Climate Desk", "solstice-climate.example"),
    ("Tidewater Markets", "tidewatermarkets.example"),
    ("Umbra Labs Blog", "umbralabs.example"),
    ("Vector Magazine", "vectormag.example"),
    ("Wavelength", "wavelength.example"),
    ("Xenon Industry Report", "xenonreport.example"),
    ("Yardstick Analytics", "yardstick.example"),
    ("Zephyr Energy News", "zephyrenergy.example"),
    ("Atlas Robotics Today", "atlasrobotics.example"),
    ("Beacon Policy Watch", "beaconpolicy.example"),
    ("Cascade Startups", "cascadestartups.example"),
    ("Delta Mobility", "deltamobility.example"),
    ("Ember Games", "embergames.example"),
    ("Fjord Nordic Tech", "fjordtech.example"),
    ("Glacier Research Notes", "glaciernotes.example"),
    ("Hinterland Agritech", "hinterland-agri.example"),
    ("Island Video", "islandvideo.example"),
)

#: Other names a publisher appears under; the format keeps the most recently ingested one.
PROVIDER_ALIASES: Final[dict[str, str]] = {
    "northwind-ledger.example": "Northwind Ledger Online",
    "circuitreview.example": "Circuit Review",
    "quantumfrontier.example": "QuantumFrontier",
    "datadesk.example": "Data Desk",
    "meridiantimes.example": "The Meridian Times",
    "wavelength.example": "Wavelength Media",
}

TOPICS: Final[tuple[str, ...]] = _words(
    "Artificial Intelligence | Machine Learning | Deep Learning | Robotics | "
    "Quantum Computing | Climate | Climate Tech | Renewable Energy | Batteries | "
    "Electric Vehicles | Autonomous Vehicles | Drones | Space | Satellites | Semiconductors | "
    "Cloud Computing | Edge Computing | Cybersecurity | Privacy | Open Source | "
    "Programming Languages | Databases | Computer Vision | Natural Language Processing | "
    "Speech Recognition | Healthcare | Genomics | Drug Discovery | Neuroscience | Agriculture | "
    "Food Tech | Fintech | Blockchain | Startups | Venture Capital | Regulation | Ethics | "
    "Education | Smart Cities | Internet of Things | Wearables | Augmented Reality | "
    "Virtual Reality | Gaming | Supply Chain | Manufacturing | Logistics | Oceans | "
    "Biodiversity | Carbon Capture | Hydrogen | Nuclear Fusion | Materials Science | "
    "Photonics | Bioinformatics | Digital Health | Accessibility | Telecommunications | 5G | "
    "AI"
)

SUBJECTS: Final[tuple[str, ...]] = _words(
    "quantum processor | robotics platform | climate model | battery chemistry | "
    "language model | satellite constellation | gene-editing tool | fusion reactor | "
    "drone fleet | solar farm | wind turbine | vision system | chip design | data centre | "
    "carbon-capture plant | warehouse robot | surgical robot | weather forecast | "
    "encryption scheme | open-source compiler | exoskeleton | microgrid | tidal generator | "
    "protein-folding model | soil sensor | heat pump"
)

ACTORS: Final[tuple[str, ...]] = _words(
    "Researchers | Engineers | A startup | Regulators | A university lab | Farmers | "
    "City planners | Hospital teams | Volunteers | A consortium | Astronomers | Economists | "
    "Students | Climate scientists | Roboticists"
)

VERBS: Final[tuple[str, ...]] = _words(
    "unveil | test | scale up | rethink | open-source | benchmark | deploy | question | fund | "
    "redesign | simulate | audit | retire | rebuild | map"
)

ADJECTIVES: Final[tuple[str, ...]] = _words(
    "low-cost | record-breaking | experimental | energy-efficient | modular | autonomous | "
    "resilient | open | faster | quieter | cheaper | self-healing | biodegradable | "
    "privacy-preserving | fault-tolerant | distributed"
)

PLACES: Final[tuple[str, ...]] = _words(
    "Lagos | Oslo | Nairobi | Toronto | Santiago | Melbourne | Bangalore | Seoul | Rotterdam | "
    "Austin | Reykjavik | Lisbon | Cape Town | Montreal | Hanoi"
)

#: Place names and phrases outside ASCII: accents, CJK and emoji, to exercise UTF-8 end to end.
UNICODE_FLOURISHES: Final[tuple[str, ...]] = (
    "in Zürich",
    "in São Paulo",
    "in Kraków",
    "in Malmö",
    "at the Café Électrique",
    "in Ōsaka",
    "— a naïve approach?",
    "in 東京",
    "人工智能 update",
    "in 서울",
    "🚀",
    "🤖",
    "🌍",
    "⚡ fast",
    "in Ελλάδα",
    "for Привет Labs",
    "in Málaga",
    "🔬",
)

TITLE_TEMPLATES: Final[tuple[str, ...]] = (
    "{actors} {verb} {a_adj} {subject}",
    "{actors} in {place} {verb} {a_adj} {subject}",
    "How {a_adj} {subject} could change {topic}",
    "Why {topic} needs {a_adj} {subject}",
    "{n} lessons from the {place} {subject} pilot",
    "The {adj} {subject} that {topic} has been waiting for",
    "Inside the race to build {a_adj} {subject}",
    "{topic}: what the new {subject} means for {place}",
    "Is the {subject} ready for {topic}?",
    "{actors} warn the {subject} is not {adj} enough",
)

SENTENCES: Final[tuple[str, ...]] = (
    "The {subject} was first tested in {place} last year and has since doubled its output.",
    "{actors} say the {adj} design cuts costs by {n} percent.",
    "Critics argue that {topic} still lacks clear rules on data and safety.",
    "Early results suggest the {subject} works best when paired with {topic}.",
    "Funding for {topic} rose sharply as investors looked for climate and robotics bets.",
    "The team plans to publish its code and measurements so that others can check them.",
    "A pilot in {place} will run for {n} months before any wider rollout.",
    "Quantum hardware remains fragile, but the {subject} tolerates more noise than expected.",
    "Local officials in {place} welcomed the project but asked for independent audits.",
    "The project joins a growing list of {adj} efforts in {topic}.",
    "Energy use is the open question: the {subject} draws {n} kilowatts at peak.",
    "{actors} compared the approach with three older systems and found it {adj}.",
)

HEADINGS: Final[tuple[str, ...]] = _words(
    "What happened | Why it matters | What comes next | The numbers | Background | "
    "Open questions | Reactions"
)


class _Draw(dict[str, str]):
    """Placeholder values for `str.format_map`, drawn only for the placeholders a template uses.

    Lazy drawing keeps generation fast (most templates use three of the seven placeholders);
    the order of draws still depends only on the template, so output stays deterministic.
    """

    __slots__ = ("_random",)

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self._random = rng.random

    def __missing__(self, key: str) -> str:
        if key == "n":
            return str(2 + int(self._random() * 39))
        if key == "a_adj":
            adjective = self._pick(ADJECTIVES)
            return ("an " if adjective[0] in "aeiou" else "a ") + adjective
        return self._pick(_PLACEHOLDERS[key])

    def _pick(self, words: tuple[str, ...]) -> str:
        return words[int(self._random() * len(words))]


def fill(rng: random.Random, template: str) -> str:
    """`template` with its {placeholders} drawn from the word lists."""
    return template.format_map(_Draw(rng))


def title(rng: random.Random) -> str:
    """A headline; about one in eight carries accents, CJK or an emoji."""
    text = fill(rng, rng.choice(TITLE_TEMPLATES))
    if rng.random() < 0.12:
        text = f"{text} {rng.choice(UNICODE_FLOURISHES)}"
    return text[0].upper() + text[1:]


def excerpt(rng: random.Random) -> str:
    """One or two sentences, sometimes cut off mid-sentence like feed excerpts."""
    text = " ".join(fill(rng, rng.choice(SENTENCES)) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.08:
        text = f"{text} {rng.choice(UNICODE_FLOURISHES)}"
    if len(text) > 160 and rng.random() < 0.5:
        text = text[:160].rsplit(" ", 1)[0]  # truncated mid-sentence, as feeds do
    return text


def body(rng: random.Random) -> str:
    """A few Markdown paragraphs, sometimes with a heading, a list, a link and emphasis."""
    parts: list[str] = []
    for number in range(rng.randint(2, 5)):
        if number and rng.random() < 0.3:
            parts.append(f"## {rng.choice(HEADINGS)}")
        sentences = [fill(rng, rng.choice(SENTENCES)) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.2:
            sentences[0] = f"**{sentences[0]}**"
        parts.append(" ".join(sentences))
        if rng.random() < 0.15:
            parts.append("\n".join(f"- {rng.choice(TOPICS)}" for _ in range(3)))
    if rng.random() < 0.3:
        parts.append(f"[Read the full report](https://{rng.choice(PROVIDERS)[1]}/report)")
    return "\n\n".join(parts) + "\n"


def slugify(text: str) -> str:
    """The file-name slug of a title: ASCII, lower case, hyphens, at most 60 characters."""
    ascii_title = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_title.lower()).strip("-")[:60].rstrip("-")
    return slug or "article"


_PLACEHOLDERS: Final[dict[str, tuple[str, ...]]] = {
    "actors": ACTORS,
    "verb": VERBS,
    "adj": ADJECTIVES,
    "subject": SUBJECTS,
    "place": PLACES,
    "topic": TOPICS,
}
