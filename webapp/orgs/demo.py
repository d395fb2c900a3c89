"""Demo: one staff user and three organizations with a member in every role."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth import services as accounts
from webapp.auth.models import User
from webapp.core.access import ADMIN, BILLING, MEMBER, OWNER, ROLES
from webapp.core.models import utcnow
from webapp.demo import DEMO_PASSWORD, step
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Membership, Organization

# ".example" is reserved for examples and passes e-mail validation; ".local" does not.
STAFF_EMAIL = "staff@tessera.example"
ORGANIZATIONS = [
    ("Harare Retail Group", "harare-retail", "ZW", "Africa/Harare"),
    ("Bulawayo Foods", "bulawayo-foods", "ZW", "Africa/Harare"),
    ("Kyoto Creators", "kyoto-creators", "JP", "Asia/Tokyo"),
]
PEOPLE = {OWNER: "Owner", ADMIN: "Admin", MEMBER: "Member", BILLING: "Billing"}


def demo_user(email: str, name: str, staff: bool = False) -> User:
    user = accounts.find_user_by_email(email)
    if user is None:
        user = accounts.sign_up(email, DEMO_PASSWORD, name)
    user.email_verified_at = user.email_verified_at or utcnow()
    user.is_staff = user.is_staff or staff
    return user


def demo_org(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


@step(order=10)
def staff_and_organizations() -> None:
    demo_user(STAFF_EMAIL, "Sam Staff", staff=True)
    for name, slug, country, zone in ORGANIZATIONS:
        org = demo_org(slug)
        owner = demo_user(f"owner@{slug}.example", f"{PEOPLE[OWNER]} of {name}")
        if org is None:
            org = orgs.create_organization(owner, name, slug, f"accounts@{slug}.example", country, zone)
        for role in ROLES:
            user = owner if role == OWNER else demo_user(f"{role.lower()}@{slug}.example", f"{PEOPLE[role]} at {name}")
            existing = db.session.scalar(
                select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
            )
            if existing is None:
                db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role))


def _ensure_member(org: Organization, user: User, role: str) -> None:
    existing = db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )
    if existing is None:
        db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
        db.session.flush()


SUSPENDED_SLUG = "mutare-hardware"


@step(order=97)
def suspended_organization() -> None:
    """A fourth organization, suspended by staff, so the console and the members' page show it."""
    from webapp.audit.models import AuditEntry
    from webapp.orgs.suspension import suspend_organization

    org = demo_org(SUSPENDED_SLUG)
    owner = demo_user(f"owner@{SUSPENDED_SLUG}.example", "Owner of Mutare Hardware")
    if org is None:
        org = orgs.create_organization(
            owner, "Mutare Hardware", SUSPENDED_SLUG, f"accounts@{SUSPENDED_SLUG}.example", "ZW", "Africa/Harare"
        )
        db.session.flush()
    elif db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "organization.suspended",
            AuditEntry.entity_type == "Organization",
            AuditEntry.entity_id == org.id,
        )
    ):
        return  # suspended by an earlier run; staff may have reactivated it since
    else:  # the billing history made it first (a customer for eleven months): its owner joins it
        _ensure_member(org, owner, OWNER)
    staff = demo_user(STAFF_EMAIL, "Sam Staff", staff=True)
    suspend_organization(org, staff, "Chargebacks on three card payments are under review by the bank.")
