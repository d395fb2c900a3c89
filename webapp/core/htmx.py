"""One place decides page or fragment, turns redirects into HX-Redirect and carries flashes.

A normal request renders the full page; an ``HX-Request`` renders only the block it asked for
(jinja2-fragments), where the block name equals the target element's id.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, get_flashed_messages, render_template, request
from flask import redirect as flask_redirect
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


# A block rendered alone does not run its template's top-level ``{% from ... import %}`` lines, so the
# shared component macros are handed to every fragment directly; other imports belong inside the block.
FRAGMENT_MACROS = ("components/_forms.html", "components/_pagination.html", "components/_empty.html")


def _component_macros() -> dict:
    names: dict = {}
    for name in FRAGMENT_MACROS:
        module = current_app.jinja_env.get_template(name).module
        names.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    return names


def render(
    template: str,
    *,
    block: str | None = None,
    status: int = 200,
    trigger: str | dict | None = None,
    **context,
):
    """Render ``template``; for an htmx request that targets ``block``, render that block only."""
    if not isinstance(status, int):  # a template variable named "status" must not become the HTTP status
        raise TypeError(f"render(status=...) takes an HTTP status code, not {status!r}")
    target = request.headers.get("HX-Target")
    if is_htmx() and block and (target is None or target == block):
        body = render_block(template, block, **{**_component_macros(), **context})
    else:
        body = render_template(template, **context)
    response = Response(body, status=status)
    if trigger:
        set_trigger(response, trigger)
    return response


def set_trigger(response: Response, event: str | dict) -> Response:
    events = {event: True} if isinstance(event, str) else dict(event)
    existing = response.headers.get("HX-Trigger")
    if existing:
        events = {**json.loads(existing), **events}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def redirect(location: str, code: int = 303):
    """303 after a POST, so the browser follows with GET; htmx gets HX-Redirect from the hook below."""
    return flask_redirect(location, code=code)


def init_app(app: Flask) -> None:
    @app.after_request
    def htmx_response(response: Response) -> Response:
        response.vary.add("HX-Request")
        if not is_htmx():
            return response
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers["Location"]
            response = Response("", status=200)
            response.vary.add("HX-Request")
            response.headers["HX-Redirect"] = location
            return response
        if response.mimetype == "text/html" and not response.direct_passthrough:
            flashes = get_flashed_messages(with_categories=True)
            if flashes:
                oob = render_template("components/_flashes.html", flashes=flashes, oob=True)
                response.set_data(response.get_data(as_text=True) + oob)
        return response
