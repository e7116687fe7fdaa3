"""One module per schema revision, named ``NNNN_slug.py``; each says what changes and why."""
