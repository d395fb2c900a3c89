"""Tenancy sweep: one committed object per URL variable of the /o/<slug>/workflows routes."""

from webapp.extensions import db


def _workflow(org, user):
    from webapp.workflows import services

    workflow = services.create_workflow(org, user, "Sweep workflow")
    services.add_step(workflow, user, "condition")
    db.session.commit()
    return workflow


def workflow_id(org, user) -> int:
    return _workflow(org, user).id


def step_id(org, user) -> int:
    return _workflow(org, user).steps[0].id


def run_id(org, user) -> int:
    from webapp.workflows.models import WorkflowRun

    workflow = _workflow(org, user)
    run = WorkflowRun(organization_id=org.id, workflow_id=workflow.id, trigger_type="manual", trigger_payload={})
    db.session.add(run)
    db.session.commit()
    return run.id


def credential_id(org, user) -> int:
    from webapp.workflows import services

    credential = services.create_credential(org, user, name="Sweep key", kind="bearer", secret="sweep-secret-1234")
    db.session.commit()
    return credential.id


SAMPLES = {
    "workflow_id": workflow_id,
    "step_id": step_id,
    "run_id": run_id,
    "credential_id": credential_id,
}
