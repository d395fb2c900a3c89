"""gunicorn settings of the sandbox process:
``gunicorn -c python:webapp.integrations.sandboxes._gunicorn 'webapp.integrations.sandboxes:create_sandbox_app()'``.

One worker (the social-platform sandboxes keep their state in its memory) with threads, bound to
SANDBOX_HOST:SANDBOX_PORT (127.0.0.1:5001 by default), quiet unless ACCESS_LOG says otherwise.
"""

import os

bind = f"{os.environ.get('SANDBOX_HOST', '127.0.0.1')}:{os.environ.get('SANDBOX_PORT', '5001')}"
workers = 1
threads = int(os.environ.get("SANDBOX_THREADS", "16"))
timeout = 120
graceful_timeout = 5
accesslog = os.environ.get("SANDBOX_ACCESS_LOG") or None
# gunicorn's control socket defaults to one path per user: two instances on a machine would share it.
control_socket_disable = True
