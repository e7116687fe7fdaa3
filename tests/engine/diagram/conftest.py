"""The API fixtures (an engine with the api_permit workflow, tokens, a client) for the diagram
routes' tests."""

from tests.engine.api.conftest import *  # noqa: F403
