// newsgraph demo page, topic view: when a topic is chosen (app.js announces it with a
// `newsgraph:topic` event), show one section per collection of that topic: events, people,
// organizations and learning resources, each with its count. Like app.js, every value from the
// API goes into the page with textContent or setAttribute, never innerHTML.
"use strict";

const TOPIC_SECTION_SIZE = 5;
const TOPIC_QUERY = `query TopicView($name: String!, $first: Int) {
  topic(name: $name) {
    name
    events(first: $first) { totalCount edges { node { id name startDate location website } } }
    people(first: $first) { totalCount edges { node { id name bio website
      affiliation { name organization { name } } } } }
    organizations(first: $first) { totalCount edges { node { id name overview website } } }
    learningResources(first: $first) { totalCount edges { node { id title kind url price } } }
    facets(collection: LEARNING, limit: 5) { kinds { value count } }
  }
}`;
const TOPIC_SECTIONS = [
  { key: "events", heading: "Events", line: (n) => [n.name, [shortDate(n.startDate), n.location].filter(Boolean).join(" · "), n.website] },
  { key: "people", heading: "People", line: (n) => [n.name, personNote(n), n.website] },
  { key: "organizations", heading: "Organizations", line: (n) => [n.name, n.overview, n.website] },
  { key: "learningResources", heading: "Learning", line: (n) => [n.title, [n.kind.toLowerCase(), n.price].filter(Boolean).join(" · "), n.url] },
];
let topicRequest = 0;

function topicElement(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function topicSafeUrl(text) {
  if (!text) return null;
  try {
    const url = new URL(text, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function shortDate(value) {
  return value ? new Date(value).toLocaleDateString() : "";
}

function personNote(person) {
  const affiliation = person.affiliation;
  if (!affiliation) return person.bio;
  const where = affiliation.organization ? affiliation.organization.name : affiliation.name;
  return where ? `${where} · ${person.bio || ""}` : person.bio;
}

function renderTopicSection(section, connection) {
  const box = topicElement("section", "collection");
  box.dataset.collection = section.key;
  const heading = topicElement("h3", null, `${section.heading} `);
  heading.append(topicElement("span", "count", `(${connection.totalCount})`));
  box.append(heading);
  const list = topicElement("ul", "entries");
  for (const edge of connection.edges) {
    const [name, note, url] = section.line(edge.node);
    const item = topicElement("li", "entry");
    item.dataset.id = edge.node.id;
    const link = topicSafeUrl(url);
    const title = topicElement(link ? "a" : "span", "name", name);
    if (link) {
      title.setAttribute("href", link);
      title.setAttribute("rel", "noopener noreferrer");
    }
    item.append(title);
    if (note) item.append(topicElement("span", "note", note));
    list.append(item);
  }
  if (!connection.edges.length) list.append(topicElement("li", "empty", "Nothing yet."));
  box.append(list);
  return box;
}

async function showTopic(name) {
  const view = document.getElementById("topic-view");
  const request = ++topicRequest; // an older, slower answer must not replace a newer one
  if (!name) {
    view.hidden = true;
    view.replaceChildren();
    return;
  }
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: TOPIC_QUERY, variables: { name, first: TOPIC_SECTION_SIZE } }),
    });
    const body = await response.json();
    if (request !== topicRequest) return;
    const topic = body.data && body.data.topic;
    if (!topic) {
      view.hidden = true;
      return;
    }
    const heading = topicElement("h2", "topic-name", topic.name);
    const kinds = topic.facets.kinds.map((k) => `${k.value} ${k.count}`).join(", ");
    const sections = TOPIC_SECTIONS.map((section) => renderTopicSection(section, topic[section.key]));
    if (kinds) sections[3].append(topicElement("p", "facets", `By kind: ${kinds}`));
    view.replaceChildren(heading, ...sections);
    view.hidden = false;
    view.dataset.loaded = String(request);
  } catch (error) {
    if (request === topicRequest) {
      view.replaceChildren(topicElement("p", "error", `Could not load the topic: ${error.message}`));
      view.hidden = false;
    }
  }
}

document.addEventListener("newsgraph:topic", (event) => showTopic(event.detail));
