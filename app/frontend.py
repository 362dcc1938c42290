"""Serves the mobile front end (miniprogram/, built by Vite into miniprogram/dist) at /.

- /assets/* are content-hashed by Vite: cached for a year, immutable.
- Any other path that is not under /api/ and is not a file in dist gets index.html (the
  single-page app's router decides), sent with no-cache so a new build is picked up at once.
- With no build, / answers a short page that says how to build; non-HTML clients get JSON 404.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import NotFound

from config import BASE_DIR

bp = Blueprint("frontend", __name__)

YEAR = 365 * 24 * 3600
MISSING_BUILD = """<!doctype html><meta charset="utf-8"><title>Suanpan</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body style="font-family:sans-serif;margin:2em;line-height:1.6">
<h1>算盘 Suanpan</h1><p>The API is running at <a href="/api/v1/health">/api/v1</a>, but the mobile
front end has not been built. Run <code>./scripts/run</code> (it builds it), or
<code>cd miniprogram &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
<p>前端尚未构建：请运行 <code>./scripts/run</code>。</p></body>"""


def dist_dir() -> Path:
    return Path(current_app.config.get("FRONTEND_DIST") or Path(BASE_DIR) / "miniprogram" / "dist")


def _index() -> Response:
    dist = dist_dir()
    if not (dist / "index.html").is_file():
        if request.accept_mimetypes.accept_html:
            return Response(MISSING_BUILD, status=503, mimetype="text/html")
        resp = jsonify({"error": {"code": "frontend_not_built", "message": "Front end not built"}})
        resp.status_code = 404
        return resp
    # Small, and must never be cached stale: read it each time, with no-cache.
    resp = Response((dist / "index.html").read_bytes(), mimetype="text/html")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/")
def index() -> Response:
    return _index()


@bp.get("/assets/<path:name>")
def assets(name: str) -> Response:
    folder = dist_dir() / "assets"
    gzipped = name + ".gz"
    if "gzip" in request.accept_encodings and (folder / gzipped).is_file():
        # Precompressed at build time (vite.config.ts): Flask does not compress on the fly.
        resp = send_from_directory(folder, gzipped, max_age=YEAR)
        resp.headers["Content-Encoding"] = "gzip"
        resp.mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    else:
        resp = send_from_directory(folder, name, max_age=YEAR)
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return resp


@bp.get("/<path:path>")
def spa(path: str) -> Response:
    if path == "api" or path.startswith("api/"):
        raise NotFound()
    dist = dist_dir()
    if "." in path.rsplit("/", 1)[-1]:
        try:  # a top-level static file from public/ (favicon.svg, ...)
            resp = send_from_directory(dist, path, max_age=3600)
            return resp
        except NotFound:
            pass
    return _index()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
