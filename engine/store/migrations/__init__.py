"""Alembic revisions of the tables in ``engine/store/tables.py``; run through
``engine.store.migrate`` (``qingliu db upgrade``), never with a separate alembic.ini."""
