"""The demo page's files (`index.html`, `app.js`, `style.css`), served at `/` and `/static/`."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
