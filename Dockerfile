# newsgraph: a live GraphQL API over a folder of Markdown + YAML news articles.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NEWSGRAPH_CONTENT=/content \
    NEWSGRAPH_DB=/data/newsgraph.db \
    NEWSGRAPH_HOST=0.0.0.0 \
    NEWSGRAPH_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY db ./db
COPY gql ./gql
COPY ingest ./ingest
COPY newsgraph ./newsgraph
RUN pip install --no-cache-dir '.[replication]' \
    && useradd --system --uid 10001 --home-dir /data newsgraph \
    && mkdir -p /data /content \
    && chown newsgraph /data

USER newsgraph
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"NEWSGRAPH_PORT\", \"8000\")}/healthz', timeout=2)"
CMD ["newsgraph", "serve"]
