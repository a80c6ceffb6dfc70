// newsgraph demo page: lists articles over GraphQL (POST /graphql) and prepends new ones as
// they arrive over the `articleEvents` subscription (graphql-transport-ws, hand-written below).
// Every value from the API is put in the page with textContent or setAttribute, never innerHTML:
// titles and excerpts come from files anyone may have written.
"use strict";

const PAGE_SIZE = 20;
const ARTICLE_FIELDS = `id title excerpt publishedAt webUrl path
  provider { name domain } images { url } topics { name }`;
const LIST_QUERY = `query Articles($filter: ArticleFilter, $search: String, $first: Int) {
  articles(filter: $filter, search: $search, first: $first) { edges { node { ${ARTICLE_FIELDS} } } }
  ingestStatus { lastChangeCursor }
}`;
const TOPICS_QUERY = `query Topics {
  topics(first: 50, orderBy: {field: ARTICLE_COUNT, direction: DESC}) { edges { node { name } } }
}`;
const EVENTS_SUBSCRIPTION = `subscription Events($since: String) {
  articleEvents(since: $since) { kind cursor articleId path article { ${ARTICLE_FIELDS} } }
}`;

const state = { search: "", topic: "", cursor: null, listing: 0 };
const $ = (id) => document.getElementById(id);

async function graphql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

function safeUrl(text) {
  try {
    const url = new URL(text, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function renderArticle(article) {
  const item = element("li", "article");
  item.dataset.id = article.id;
  item.dataset.path = article.path; // article.js adds a "Read" link to the article view
  const image = article.images && article.images[0] && safeUrl(article.images[0].url);
  if (image) {
    const img = element("img");
    img.setAttribute("src", image);
    img.setAttribute("alt", "");
    img.setAttribute("loading", "lazy");
    img.setAttribute("referrerpolicy", "no-referrer");
    item.append(img);
  }
  const body = element("div", "body");
  const heading = element("h2", "title");
  const link = safeUrl(article.webUrl);
  if (link) {
    const anchor = element("a", null, article.title);
    anchor.setAttribute("href", link);
    anchor.setAttribute("rel", "noopener noreferrer");
    heading.append(anchor);
  } else {
    heading.textContent = article.title;
  }
  const provider = article.provider ? article.provider.name || article.provider.domain : "";
  const meta = element("p", "meta");
  meta.append(element("span", "provider", provider || "unknown provider"));
  meta.append(document.createTextNode(" · "));
  const time = element("time", "published", new Date(article.publishedAt).toLocaleString());
  time.setAttribute("datetime", article.publishedAt);
  meta.append(time);
  body.append(heading, meta);
  if (article.excerpt) body.append(element("p", "excerpt", article.excerpt));
  const topics = element("ul", "topics");
  for (const topic of article.topics || []) {
    const chip = element("button", "topic", topic.name);
    chip.type = "button";
    chip.addEventListener("click", () => chooseTopic(topic.name));
    const entry = element("li");
    entry.append(chip);
    topics.append(entry);
  }
  body.append(topics);
  item.append(body);
  return item;
}

function showMessage(text) {
  const message = $("message");
  message.textContent = text || "";
  message.hidden = !text;
}

async function loadArticles() {
  const listing = ++state.listing; // a slower, older answer must not overwrite a newer one
  const variables = { first: PAGE_SIZE, search: state.search || null, filter: null };
  if (state.topic) variables.filter = { topics: [state.topic] };
  try {
    const data = await graphql(LIST_QUERY, variables);
    if (listing !== state.listing) return;
    // Subscribing from the cursor read with the list misses nothing that landed in between.
    if (state.cursor === null) state.cursor = data.ingestStatus.lastChangeCursor;
    const list = $("articles");
    list.replaceChildren(...data.articles.edges.map((edge) => renderArticle(edge.node)));
    showMessage(list.children.length ? "" : "No articles match.");
    document.body.dataset.loaded = String(listing);
  } catch (error) {
    if (listing === state.listing) showMessage(`Could not load articles: ${error.message}`);
  }
}

async function loadTopics() {
  try {
    const data = await graphql(TOPICS_QUERY, {});
    const select = $("topic");
    for (const edge of data.topics.edges) {
      const option = element("option", null, edge.node.name);
      option.value = edge.node.name;
      select.append(option);
    }
    select.value = state.topic;
  } catch (error) {
    showMessage(`Could not load topics: ${error.message}`);
  }
}

function chooseTopic(name) {
  const select = $("topic");
  if (![...select.options].some((option) => option.value === name)) {
    const option = element("option", null, name);
    option.value = name;
    select.append(option);
  }
  select.value = name;
  state.topic = name;
  loadArticles();
}

function matchesTopic(article) {
  if (!state.topic) return true;
  const wanted = state.topic.toLowerCase();
  return (article.topics || []).some((topic) => topic.name.toLowerCase() === wanted);
}

function applyEvent(event) {
  state.cursor = event.cursor;
  const list = $("articles");
  const existing = [...list.children].find((item) => item.dataset.id === event.articleId);
  const kind = String(event.kind).toLowerCase();
  if (kind === "deleted" || !event.article) {
    if (existing) existing.remove();
    return;
  }
  if (state.search) {
    reloadSoon(); // only the server can tell whether an article matches a search
    return;
  }
  if (!matchesTopic(event.article)) {
    if (existing) existing.remove();
    return;
  }
  const item = renderArticle(event.article);
  item.classList.add("fresh");
  if (existing) {
    existing.replaceWith(item);
  } else {
    list.prepend(item);
    while (list.children.length > PAGE_SIZE * 5) list.lastElementChild.remove();
    showMessage("");
  }
}

// A minimal graphql-transport-ws client: one subscription, reconnecting with backoff and
// resuming from the last cursor received, so no event is lost or repeated across a drop.
function setStatus(stateName, text) {
  const status = $("status");
  status.dataset.state = stateName;
  status.textContent = text;
}

function subscribe(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/graphql`, "graphql-transport-ws");
  let acknowledged = false;
  const send = (message) => socket.send(JSON.stringify(message));
  socket.addEventListener("open", () => send({ type: "connection_init", payload: {} }));
  socket.addEventListener("message", (frame) => {
    let message;
    try {
      message = JSON.parse(frame.data);
    } catch {
      return;
    }
    switch (message.type) {
      case "connection_ack":
        acknowledged = true;
        attempt = 0;
        send({
          id: "events",
          type: "subscribe",
          payload: { query: EVENTS_SUBSCRIPTION, variables: { since: state.cursor } },
        });
        setStatus("live", "live");
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "next": {
        const payload = message.payload || {};
        if (payload.errors && payload.errors.length) {
          showMessage(`Live updates: ${payload.errors[0].message}`);
        }
        const event = payload.data && payload.data.articleEvents;
        if (event) applyEvent(event);
        break;
      }
      case "error":
        // A cursor the server cannot resume from: start again from now, after a fresh listing.
        showMessage(`Live updates: ${(message.payload && message.payload[0] && message.payload[0].message) || "error"}`);
        state.cursor = null;
        socket.close();
        break;
      case "complete":
        socket.close();
        break;
      default:
        break;
    }
  });
  socket.addEventListener("close", () => {
    const delay = Math.min(10000, 250 * 2 ** attempt);
    setStatus("reconnecting", acknowledged ? "reconnecting…" : "connecting…");
    // Without a cursor (the server could not resume from ours) the list is read afresh first.
    const ready = state.cursor === null ? loadArticles() : Promise.resolve();
    setTimeout(() => ready.then(() => subscribe(attempt + 1)), delay);
  });
}

function debounce(action, milliseconds) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => action(...args), milliseconds);
  };
}

// A burst of events under a search costs one reload, not one per event.
const reloadSoon = debounce(() => loadArticles(), 250);

function start() {
  const search = $("search");
  search.addEventListener(
    "input",
    debounce(() => {
      state.search = search.value.trim();
      loadArticles();
    }, 200),
  );
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("topic").addEventListener("change", (event) => {
    state.topic = event.target.value;
    loadArticles();
  });
  loadTopics();
  loadArticles().then(() => subscribe());
}

document.addEventListener("DOMContentLoaded", start);
