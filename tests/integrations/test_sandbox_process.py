"""The provider sandboxes are their own process: own port, own database, never imported by the
product, never in the product's schema; the demo finds them by asking who answers."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import httpx
import pytest
from sqlalchemy import inspect

from tests.servers import ROOT, child_env, free_port
from webapp.extensions import db
from webapp.integrations.sandbox_process import SandboxUnavailable, identify, serving_sandboxes

PROBE = """
import json, sys
from webapp import create_app
app = create_app()
with app.test_client() as c:
    status = c.get("/sandbox/freee/public_api/authorize").status_code
names = ("webapp.integrations.sandboxes",)  # the social platforms' kit lives there too
loaded = sorted(m for m in sys.modules if m.startswith(names))
print(json.dumps({"loaded": loaded, "status": status}))
"""


@pytest.mark.parametrize("enabled", ["0", "1"])
def test_the_product_process_never_imports_a_sandbox(tmp_path, enabled):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=child_env(SANDBOXES_ENABLED=enabled, INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/x"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"loaded": [], "status": 404}


def test_the_product_schema_and_models_hold_no_sandbox_table(app):
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
    assert tables and not [t for t in tables if t.startswith("sandbox_")]
    assert not [t for t in db.metadata.tables if t.startswith("sandbox_")]


def test_the_sandbox_process_has_its_own_port_and_database(app, sandbox_url, sandbox_db):
    assert app.config["SANDBOX_URL"] == sandbox_url != app.config["BASE_URL"]
    answer = httpx.get(f"{sandbox_url}/_sandbox", timeout=5).json()
    assert answer["service"] == "tessera-sandboxes"
    assert {"paynow", "freee", "google_drive", "tiktok", "instagram", "youtube", "ai"} <= set(answer["sandboxes"])
    tables = inspect(sandbox_db.get_bind()).get_table_names()
    assert "sandbox_freee_tokens" in tables and "users" not in tables


def test_every_provider_url_points_at_the_sandbox_process(app, sandbox_url):
    keys = [k for k in app.config if k.endswith(("_URL", "_API_BASE")) and k not in {"BASE_URL", "SANDBOX_URL"}]
    providers = [
        k
        for k in keys
        if k.split("_")[0] in {"FREEE", "GOOGLE", "TIKTOK", "INSTAGRAM", "YOUTUBE", "PAYNOW", "AI", "STRIPE"}
    ]
    assert len(providers) >= 16
    assert all(app.config[k].startswith(sandbox_url + "/sandbox/") for k in providers), {
        k: app.config[k] for k in providers
    }


class _Impostor(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"service": "something else"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_demo_refuses_whatever_else_answers_on_the_sandbox_port(app):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert identify(url) == "other"
        with app.app_context():
            saved = app.config["SANDBOX_URL"]
            app.config["SANDBOX_URL"] = url
            try:
                with pytest.raises(SandboxUnavailable, match="something other than the sandbox"), serving_sandboxes():
                    pass
            finally:
                app.config["SANDBOX_URL"] = saved
    finally:
        server.shutdown()
        server.server_close()


def test_the_demo_starts_a_sandbox_process_for_its_step_when_none_answers(app, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    assert identify(url) is None
    with app.app_context():
        saved = app.config["SANDBOX_URL"]
        app.config["SANDBOX_URL"] = url
        try:
            with serving_sandboxes() as answering:
                assert answering == url and identify(url) == "sandboxes"
        finally:
            app.config["SANDBOX_URL"] = saved
    assert identify(url) is None  # stopped with the step


def test_forms_may_redirect_the_browser_to_the_providers_pages(client, app, sandbox_url):
    """Paynow's checkout and the OAuth consent screens live at the sandbox's origin: the CSP's
    form-action (which also governs the redirect after a POST) must allow it, or the browser stops."""
    csp = client.get("/auth/login").headers["Content-Security-Policy"]
    form_action = next(part for part in csp.split(";") if part.strip().startswith("form-action"))
    assert "'self'" in form_action and sandbox_url in form_action.split()
