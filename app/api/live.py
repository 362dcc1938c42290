"""Live updates for an open dashboard, as Server-Sent Events.

Each response is short: it sends what was posted since the client's Last-Event-ID, a `retry`
hint, and ends; the client reconnects after that delay (EventSource does so by itself). An open
dashboard therefore never holds a web worker, and because the feed is read from the database,
changes made through any worker reach every worker's clients within about RETRY_MS.
"""

from __future__ import annotations

import json

from flask import Response, request

from app.api.routing import route
from app.services import changes

RETRY_MS = 2000


def _frame(event: str, data: object, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


@route(
    "/businesses/<int:business_id>/events",
    "GET",
    summary="Server-Sent Events: entries posted since Last-Event-ID",
    tag="live",
    action="read_books",
    content_type="text/event-stream",
)
def live_events(business_id: int) -> Response:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or ""
    out = [f"retry: {RETRY_MS}\n\n"]
    if not raw.isdigit():
        # First connection: start from now.
        out.append(
            _frame("hello", {"business_id": business_id}, changes.latest_entry_id(business_id))
        )
    else:
        for item in changes.posted_since(business_id, int(raw)):
            out.append(_frame("entry", item, item["id"]))
    resp = Response("".join(out), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp
