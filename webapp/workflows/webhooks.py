"""The inbound-webhook trigger: ``POST /webhooks/workflows/<id>/<secret>`` starts a run with the body."""

from __future__ import annotations

from flask import jsonify, request

from webapp.core.boundary import body_limit, has_forbidden_characters, load_json
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.settings import get
from webapp.workflows import public_bp
from webapp.workflows.models import TRIGGER_WEBHOOK, Workflow


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@public_bp.post("/webhooks/workflows/<int:workflow_id>/<secret>")
@body_limit(lambda: get("workflows.webhook_max_bytes"))
def inbound(workflow_id: int, secret: str):
    from webapp.workflows.execution import start_run
    from webapp.workflows.services import webhook_secret_matches

    body = request.get_data()  # at most workflows.webhook_max_bytes, chunked or not (413 beyond)
    workflow = db.session.get(Workflow, workflow_id)
    if workflow is None or workflow.trigger_type != TRIGGER_WEBHOOK or not webhook_secret_matches(workflow, secret):
        return _error(404, "not_found", "There is no such webhook.")
    if not workflow.enabled:
        return _error(409, "workflow_disabled", "This workflow is disabled.")
    text = body.decode("utf-8", errors="replace")
    if has_forbidden_characters(text):
        return _error(422, "invalid_characters", "The body contains a NUL byte, which cannot be stored.")
    try:
        data = load_json(text) if text.strip() else {}
    except ValueError:
        data = text
    payload = {"body": data, "query": request.args.to_dict(), "content_type": request.content_type or ""}
    if isinstance(data, dict):
        payload.update({k: v for k, v in data.items() if k not in payload})
    return perform(
        lambda: start_run(workflow, TRIGGER_WEBHOOK, payload),
        then=lambda run: (jsonify({"run_id": run.id, "status": run.status}), 202),
        failed=lambda error: _error(error.status, error.code, error.message),
    )
