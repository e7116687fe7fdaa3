"""The HTTP API for agencies (FastAPI). ``create_app`` lives in ``engine.api.app``; this package
face imports nothing heavy, so the CLI can use ``engine.api.tokens`` without FastAPI loaded."""
