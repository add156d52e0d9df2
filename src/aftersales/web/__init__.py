"""The web desk: server-rendered pages and the JSON API (FastAPI), over the same use cases as the CLI."""
