// Apollo Client 4 (PersistedQueryLink, GET for hashed queries) and urql (persistedExchange,
// GET for persisted queries), exactly as the README sets them up, against a running newsgraph.
// Used by tests/test_clients.py; run by hand with `node tests/clients/clients.mjs URL`.
//
// Each client runs its own homepage query (its own document, so each starts with a hash the
// server has never seen) once, then again. It prints one JSON line {apollo, urql} of the titles
// each answer held, then waits for a line on stdin (the test drops and ingests a file meanwhile),
// queries once more, prints the titles again and exits.
import { createInterface } from "node:readline";

import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

const url = process.argv[2];
if (!url) {
  console.error("usage: node clients.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}

// --- set-up exactly as in the README ("Caching and persisted queries"); a test compares them ---
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const apollo = new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true })
    .concat(new HttpLink({ uri: url })),
});

const urql = new Client({
  url,
  exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
});
// -----------------------------------------------------------------------------------------------

const APOLLO_HOME = gql`
  query ApolloHome($first: Int!) {
    articles(first: $first) { edges { node { id path title } } }
  }
`;
const URQL_HOME = `
  query UrqlHome($first: Int!) {
    articles(first: $first) { edges { node { id path title } } }
  }
`;
const variables = { first: 20 };

const titles = (data) => data.articles.edges.map((edge) => edge.node.title);

async function askApollo() {
  // network-only: every call reaches the server (Apollo's own cache would answer otherwise)
  const result = await apollo.query({ query: APOLLO_HOME, variables, fetchPolicy: "network-only" });
  if (result.error) throw result.error;
  return titles(result.data);
}

async function askUrql() {
  const result = await urql
    .query(URQL_HOME, variables, { requestPolicy: "network-only" })
    .toPromise();
  if (result.error) throw result.error;
  return titles(result.data);
}

const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const first = { apollo: [await askApollo(), await askApollo()], urql: [await askUrql(), await askUrql()] };
print(first);

const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break; // the test has dropped and ingested a file
lines.close();

print({ apollo: [await askApollo()], urql: [await askUrql()] });
apollo.stop();
