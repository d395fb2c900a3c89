"""The inbound-webhook trigger: ``POST /webhooks/workflows/<id>/<secret>`` starts a run with the body."""

from __future__ import annotations

import json

from flask import jsonify, request

from webapp.extensions import db
from webapp.settings import get
from webapp.workflows import public_bp
from webapp.workflows.models import TRIGGER_WEBHOOK, Workflow


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@public_bp.post("/webhooks/workflows/<int:workflow_id>/<secret>")
def inbound(workflow_id: int, secret: str):
    from webapp.workflows.execution import start_run
    from webapp.workflows.services import webhook_secret_matches

    limit = get("workflows.webhook_max_bytes")
    if request.content_length is not None and request.content_length > limit:
        return _error(413, "payload_too_large", f"The body is larger than {limit} bytes.")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _error(413, "payload_too_large", f"The body is larger than {limit} bytes.")
    workflow = db.session.get(Workflow, workflow_id)
    if workflow is None or workflow.trigger_type != TRIGGER_WEBHOOK or not webhook_secret_matches(workflow, secret):
        return _error(404, "not_found", "There is no such webhook.")
    if not workflow.enabled:
        return _error(409, "workflow_disabled", "This workflow is disabled.")
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = text
    payload = {"body": data, "query": request.args.to_dict(), "content_type": request.content_type or ""}
    if isinstance(data, dict):
        payload.update({k: v for k, v in data.items() if k not in payload})
    run = start_run(workflow, TRIGGER_WEBHOOK, payload)
    db.session.commit()
    return jsonify({"run_id": run.id, "status": run.status}), 202
