"""app/frontend.py: the built front end at /, SPA fallback, cache headers, missing build."""

from __future__ import annotations

import gzip
from pathlib import Path

from flask import Flask


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    return dist


def test_index_and_spa_routes_get_index_html_without_caching(app: Flask, tmp_path: Path) -> None:
    app.config["FRONTEND_DIST"] = str(built(tmp_path))
    client = app.test_client()
    for path in ("/", "/home", "/entries/12", "/invite/abcDEF", "/verify"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert b"<div id=app>" in resp.data
        assert resp.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year(app: Flask, tmp_path: Path) -> None:
    app.config["FRONTEND_DIST"] = str(built(tmp_path))
    client = app.test_client()
    with client.get("/assets/index-abc123.js") as resp:
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/missing-1.js").status_code == 404
    (tmp_path / "dist" / "assets" / "index-abc123.js.gz").write_bytes(
        gzip.compress(b"console.log(1)")
    )
    with client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"}) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.mimetype == "text/javascript"
        assert gzip.decompress(resp.data) == b"console.log(1)"
    with client.get("/favicon.svg") as resp:
        assert resp.status_code == 200


def test_api_paths_are_never_the_spa(app: Flask, tmp_path: Path) -> None:
    app.config["FRONTEND_DIST"] = str(built(tmp_path))
    client = app.test_client()
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"]
    assert client.get("/api/v1/health").status_code == 200


def test_missing_build_says_how_to_build(app: Flask, tmp_path: Path) -> None:
    app.config["FRONTEND_DIST"] = str(tmp_path / "nothing")
    client = app.test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and b"./scripts/run" in page.data
    api_like = client.get("/home", headers={"Accept": "application/json"})
    assert api_like.status_code == 404
    assert api_like.get_json()["error"]["code"] == "frontend_not_built"
