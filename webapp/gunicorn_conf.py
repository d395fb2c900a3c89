"""gunicorn settings of the web process (``gunicorn -c python:webapp.gunicorn_conf asgi:app``).

HOST (default 127.0.0.1: a laptop on a shared network does not serve the demo to everyone), PORT
(5000), WEB_WORKERS (2 processes), WEB_THREADS (4 page threads per process; read by webapp.asgi).
Live streams do not count against the threads: they live on each worker's event loop.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "uvicorn_worker.UvicornWorker"
# Streams stay open for hours; a worker restart (deploy) closes them and EventSource reconnects.
graceful_timeout = 10
timeout = 60
# Longer than a client's or a load balancer's idle connection (60 s is common): the server must not
# close a kept-alive connection just as the client reuses it.
keepalive = 75
accesslog = os.environ.get("ACCESS_LOG", "-") or None
# gunicorn's control socket defaults to one path per user: two instances on a machine would share it.
control_socket_disable = True
