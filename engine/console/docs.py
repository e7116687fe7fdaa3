"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

Swagger UI (``static/vendor/swagger-ui-*``, from npm's swagger-ui-dist: version 5 reads
OpenAPI 3.1) and ReDoc's standalone bundle (``static/vendor/redoc-*``) are vendored with their
licences; ReDoc's bundle is changed in one place: the Redocly logo it would load from
cdn.redoc.ly is an empty inline image (static/vendor/README.md). The pages load no script
from another host and run no inline script (``static/console/swagger-init.js`` starts Swagger
UI), so their policy allows this site only; ReDoc styles its page with inline styles and runs
its search in a worker made from a ``blob:``, and gets those two as well.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_POLICY", "mount"]

DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_SWAGGER = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>清流 API 文档 (Swagger UI)</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui-5.35.0/swagger-ui.css">
</head><body><div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js"></script>
<script src="/static/console/swagger-init.js"></script>
</body></html>"""

_REDOC = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>清流 API 文档 (ReDoc)</title>
</head><body><redoc spec-url="/openapi.json"></redoc>
<script src="/static/vendor/redoc-2.5.4/redoc.standalone.js"></script>
</body></html>"""


def _page(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"Content-Security-Policy": DOCS_POLICY})


def mount(app: FastAPI) -> None:
    @app.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        return _page(_SWAGGER)

    @app.api_route("/redoc", methods=["GET", "HEAD"], include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return _page(_REDOC)
