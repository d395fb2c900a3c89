"""Staff: the outbound-call log of every provider and organization, with filters."""

from flask import request
from sqlalchemy import select

from webapp.core.htmx import render
from webapp.core.pagination import keyset
from webapp.extensions import db
from webapp.integrations import admin_bp, services
from webapp.integrations.models import OutboundCall


@admin_bp.get("/")
def calls():
    args = request.args
    org_id = None
    if args.get("org"):
        from webapp.orgs.models import Organization

        org_id = db.session.scalar(select(Organization.id).where(Organization.slug == args["org"].strip())) or -1
    stmt = services.calls_query(org_id, args.get("provider") or None, args.get("success"), args.get("action") or None)
    page = keyset(stmt, OutboundCall.id, args.get("before", type=int), per_page=50)
    providers = list(db.session.scalars(select(OutboundCall.provider).distinct().order_by(OutboundCall.provider)))
    return render(
        "integrations/admin_calls.html", block="calls", page=page, filters=args, providers=providers, admin=True
    )
