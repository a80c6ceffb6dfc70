// Runs graphql-http's server audits (the GraphQL-over-HTTP spec) against a URL and prints
// one JSON array of {id, name, status, reason, httpStatus} to stdout. Used by
// tests/test_http_audit.py; run by hand with `node tests/http_audit/audit.mjs URL`.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.httpStatus = result.response?.status;
  }
  results.push(entry);
}
console.log(JSON.stringify(results));
