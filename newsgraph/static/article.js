// newsgraph demo page, article view: `#article=<path>` shows one article's rendered body, with
// its headings as a table of contents. Kept apart from app.js (the list) on purpose.
//
// `html` is the one value put in the page as markup: the server rendered it from Markdown at
// ingest and sanitized it with an allow-list (no scripts, no event handlers, no javascript: or
// data: URLs). The page's Content-Security-Policy would stop inline script even if it had not.
"use strict";

const ARTICLE_QUERY = `query Article($path: String!) {
  article(path: $path) {
    path title webUrl publishedAt provider { name domain }
    html headings { depth text id } wordCount readingTimeMinutes
  }
}`;
const ARTICLE_HASH = "#article=";

async function articleData(path) {
  return (await graphql(ARTICLE_QUERY, { path })).article; // graphql() is app.js's
}

function articleLink(path) {
  return ARTICLE_HASH + encodeURIComponent(path);
}

function tableOfContents(headings) {
  const list = document.createElement("ol");
  list.className = "toc";
  for (const heading of headings) {
    const entry = document.createElement("li");
    entry.className = `depth-${heading.depth}`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = heading.text;
    // A button, not `href="#id"`: the hash holds the article being shown.
    button.addEventListener("click", () => {
      const target = document.getElementById(heading.id);
      if (target) target.scrollIntoView();
    });
    entry.append(button);
    list.append(entry);
  }
  return list;
}

async function showArticle(path) {
  const view = document.getElementById("article-view");
  const content = document.getElementById("article-content");
  view.hidden = false;
  document.getElementById("articles").hidden = true;
  content.replaceChildren(document.createTextNode("Loading…"));
  try {
    const article = await articleData(path);
    if (location.hash !== articleLink(path)) return; // the reader moved on meanwhile
    if (!article) {
      content.textContent = "No such article.";
      return;
    }
    const title = document.createElement("h2");
    title.className = "article-title";
    title.textContent = article.title;
    const meta = document.createElement("p");
    meta.className = "meta";
    const provider = article.provider ? article.provider.name || article.provider.domain : "";
    const minutes = article.readingTimeMinutes;
    meta.textContent = [
      provider,
      new Date(article.publishedAt).toLocaleString(),
      `${article.wordCount} words`,
      minutes ? `${minutes} min read` : "",
    ].filter(Boolean).join(" · ");
    const body = document.createElement("div");
    body.className = "rendered";
    body.innerHTML = article.html; // sanitized at ingest, see the top of this file
    const parts = [title, meta];
    if (article.headings.length) parts.push(tableOfContents(article.headings));
    parts.push(body);
    content.replaceChildren(...parts);
    document.body.dataset.article = article.path;
  } catch (error) {
    content.textContent = `Could not load the article: ${error.message}`;
  }
}

function hideArticle() {
  document.getElementById("article-view").hidden = true;
  document.getElementById("articles").hidden = false;
  delete document.body.dataset.article;
}

function route() {
  const hash = location.hash;
  if (hash.startsWith(ARTICLE_HASH)) {
    showArticle(decodeURIComponent(hash.slice(ARTICLE_HASH.length)));
  } else if (!hash) {
    hideArticle();
  }
}

function startArticleView() {
  document.getElementById("article-back").addEventListener("click", () => {
    history.pushState(null, "", location.pathname + location.search);
    hideArticle();
  });
  // Each listed article gets a "Read" link; the list re-renders, so listen on the list itself.
  const observer = new MutationObserver(() => {
    for (const item of document.querySelectorAll("#articles .article[data-path]:not([data-read])")) {
      item.dataset.read = "1";
      const link = document.createElement("a");
      link.className = "read";
      link.href = articleLink(item.dataset.path);
      link.textContent = "Read";
      (item.querySelector(".body") || item).append(link);
    }
  });
  observer.observe(document.getElementById("articles"), { childList: true });
  window.addEventListener("hashchange", route);
  route();
}

document.addEventListener("DOMContentLoaded", startArticleView);
