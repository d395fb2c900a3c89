"""The web process of the README's run shape: one port, two kinds of work.

``/notifications/stream`` is answered on the event loop by ``StreamHub`` (an open stream is a socket
and a queue, never a thread), and so is Paynow's result-URL callback, by ``CallbackReceiver`` (a
burst of callbacks waits for no page thread); every other request goes to the Flask app through a2wsgi's thread pool
(``WEB_THREADS`` threads, 4 by default). Served by gunicorn with uvicorn's worker class
(``webapp/gunicorn_conf.py``), so each of the ``WEB_WORKERS`` processes holds its own streams and
page threads. One origin for both: EventSource stays same-origin, so no CORS, no extra CSP source,
no second port to publish or to route, and any load balancer in front works unchanged.
"""

from __future__ import annotations

import os

from a2wsgi import WSGIMiddleware
from flask import Flask

from webapp.billing.receiver import CallbackReceiver
from webapp.notifications.streaming import PATH, StreamHub


def create_asgi_app(flask_app: Flask | None = None, *, threads: int | None = None):
    from webapp import create_app

    flask_app = flask_app or create_app()
    threads = threads or int(os.environ.get("WEB_THREADS", "4"))
    # a2wsgi types the WSGI app with its own environ TypedDict; Flask's __call__ takes any environ dict.
    pages = WSGIMiddleware(flask_app, workers=threads)  # type: ignore[arg-type]
    hub = StreamHub(flask_app)
    callbacks = CallbackReceiver(flask_app)

    async def lifespan(receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await hub.start()
                await callbacks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await callbacks.stop()
                await hub.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == PATH:
            await hub.handle(scope, receive, send)
        elif callbacks.handles(scope):
            await callbacks.handle(scope, receive, send)
        else:
            await pages(scope, receive, send)

    app.hub = hub  # type: ignore[attr-defined]
    app.callbacks = callbacks  # type: ignore[attr-defined]
    app.flask_app = flask_app  # type: ignore[attr-defined]
    return app
