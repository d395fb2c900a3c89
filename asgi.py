"""ASGI entry point of the README's run shape: ``gunicorn -c python:webapp.gunicorn_conf asgi:app``
(pages on a thread pool, live streams on the event loop, one port)."""

from webapp.asgi import create_asgi_app

app = create_asgi_app()
