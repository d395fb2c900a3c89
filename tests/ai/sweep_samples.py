"""Ids of one task proposal and one AI report (a document analysis) in ``org``, for the tenancy sweep."""

from webapp.extensions import db


def _project(org, user):
    from webapp.projects import services as projects

    return projects.create_project(org, user, "Sweep AI project")


def _proposal_id(org, user):
    from webapp.ai.models import AiTaskProposal

    proposal = AiTaskProposal(
        organization_id=org.id,
        created_by_id=user.id,
        project_id=_project(org, user).id,
        goal="Sweep",
        tasks=[{"title": "Sweep task", "description": "", "due_in_days": 1, "assignee_id": None}],
    )
    db.session.add(proposal)
    db.session.commit()
    return proposal.id


def _report_id(org, user):
    from webapp.ai.models import AiReport

    report = AiReport(
        organization_id=org.id,
        created_by_id=user.id,
        kind=AiReport.DOCUMENT,
        title="sweep.txt",
        narrative="A sweep.",
        details={"tasks": [{"title": "Sweep task", "description": "", "due_in_days": 1}]},
    )
    db.session.add(report)
    db.session.commit()
    return report.id


SAMPLES = {"proposal_id": _proposal_id, "report_id": _report_id, "index": lambda org, user: 0}
