"""Organizations and membership rules. Every change is audited; the last owner always stays."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from zoneinfo import available_timezones

from flask import current_app, url_for
from flask_babel import LazyString, lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.audit import record
from webapp.auth.models import User, hash_token
from webapp.core import limits
from webapp.core.access import ADMIN, OWNER, ROLES
from webapp.core.display import translated
from webapp.core.errors import DomainError, Forbidden
from webapp.core.models import utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.mail import send_email
from webapp.orgs.models import Invitation, Membership, Organization

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
RESERVED_SLUGS = {"admin", "api", "auth", "account", "static", "new", "settings", "billing", "pay", "o"}
INVITATION_LIFETIME = timedelta(days=7)
TIMEZONES = frozenset(available_timezones())


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:50] or "org"


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise DomainError(
            "Use 3 to 63 lowercase letters, digits and dashes, not starting or ending with a dash.", field="slug"
        )
    if slug in RESERVED_SLUGS:
        raise DomainError("That address is reserved. Choose another.", field="slug")
    if db.session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise DomainError("That address is taken. Choose another.", field="slug")
    return slug


def _unique_slug(base: str) -> str:
    base = slugify(base)
    if len(base) < 3:
        base = f"{base}-org"
    candidate = base
    while candidate in RESERVED_SLUGS or db.session.scalar(
        select(Organization.id).where(Organization.slug == candidate)
    ):
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


def create_organization(
    owner: User,
    name: str,
    slug: str,
    email: str,
    country: str = "ZW",
    timezone: str = "UTC",
    *,
    personal: bool = False,
) -> Organization:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the organization a name.", field="name")
    if timezone not in TIMEZONES:
        raise DomainError("Choose a time zone from the list.", field="timezone")
    org = Organization(
        name=name[:120],
        slug=slug if personal else validate_slug(slug),
        email=email.strip().lower(),
        country=(country or "ZW").upper()[:2],
        timezone=timezone,
        is_personal=personal,
    )
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=owner.id, role=OWNER))
    record(owner, "organization.created", org, {"slug": org.slug, "personal": personal})
    _notify_created(org, owner)
    return org


def _notify_created(org: Organization, owner: User) -> None:
    for hook in ORGANIZATION_CREATED_HOOKS:
        hook(org, owner)


# Domains that keep a row per organization (billing account, subscription…) add themselves here.
ORGANIZATION_CREATED_HOOKS: list = []


def create_personal_organization(user: User) -> Organization:
    local = user.email.split("@")[0]
    name = f"{user.name or local}'s workspace"
    return create_organization(user, name, _unique_slug(local), user.email, personal=True)


def memberships_of(user_id: int) -> list[Membership]:
    stmt = (
        select(Membership)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id, Organization.deleted_at.is_(None))
        .order_by(Organization.is_personal, Organization.name)
    )
    return list(db.session.scalars(stmt))


def members_of(org: Organization) -> list[Membership]:
    stmt = (
        select(Membership)
        .options(selectinload(Membership.user))
        .where(Membership.organization_id == org.id)
        .order_by(Membership.role, Membership.id)
    )
    return list(db.session.scalars(stmt))


def pending_invitations(org: Organization) -> list[Invitation]:
    stmt = (
        select(Invitation)
        .where(
            Invitation.organization_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.id.desc())
    )
    return list(db.session.scalars(stmt))


def member_count(org: Organization) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(Membership).where(Membership.organization_id == org.id)) or 0
    )


def owner_count(org: Organization) -> int:
    stmt = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == org.id, Membership.role == OWNER)
    )
    return db.session.scalar(stmt) or 0


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise DomainError("Choose a role from the list.", field="role")
    return role


def _guard_actor(actor_membership: Membership, target_role: str | None, new_role: str | None = None) -> None:
    """Admins manage everyone except owners, and cannot make owners."""
    if actor_membership.role == OWNER:
        return
    if actor_membership.role == ADMIN and target_role != OWNER and new_role != OWNER:
        return
    raise Forbidden("Only an owner can do that to an owner.")


def invite_member(org: Organization, actor_membership: Membership, email: str, role: str) -> tuple[Invitation, str]:
    email = email.strip().lower()
    _check_role(role)
    _guard_actor(actor_membership, None, role)
    existing_member = db.session.scalar(
        select(Membership.id)
        .join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, func.lower(User.email) == email)
    )
    if existing_member:
        raise DomainError("That person is already a member.", field="email")
    limits.check(org, "users", adding=1)
    for pending in db.session.scalars(
        select(Invitation).where(Invitation.organization_id == org.id, func.lower(Invitation.email) == email)
    ):
        if pending.is_pending:
            pending.revoked_at = utcnow()  # a new invitation replaces the old link
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=org.id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=actor_membership.user_id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    actor = actor_membership.user
    record(actor, "member.invited", invitation, {"email": email, "role": role}, org=org)
    link = current_app.config["BASE_URL"] + url_for("orgs.invitation", token=token)
    send_email(
        email,
        "orgs/invitation",
        subject=lazy_gettext("%(inviter)s invited you to %(org)s on Tessera", inviter=actor.display_name, org=org.name),
        org=org,
        about=invitation,
        link=link,
        org_name=org.name,
        inviter=actor.display_name,
        role=LazyString(translated, role.title()),  # in the recipient's language, as the e-mail is
    )
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def accept_invitation(token: str, user: User) -> Membership:
    invitation = find_invitation(token)
    if (
        invitation is None
        or invitation.revoked_at is not None
        or invitation.accepted_at is not None
        or invitation.organization.deleted_at is not None
    ):
        raise DomainError("This invitation is not valid any more.", code="invitation_invalid")
    if invitation.expires_at <= utcnow():
        raise DomainError("This invitation has expired. Ask for a new one.", code="invitation_expired")
    if invitation.email.lower() != user.email.lower():
        raise DomainError(
            f"This invitation is for {invitation.email}. Log in with that address to accept it.",
            code="invitation_other_user",
        )
    org = invitation.organization
    membership = db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )
    if membership is None:
        limits.check(org, "users", adding=1)
        membership = Membership(organization_id=org.id, user_id=user.id, role=invitation.role)
        db.session.add(membership)
    invitation.accepted_at = utcnow()
    user.email_verified_at = user.email_verified_at or utcnow()  # the link reached this inbox
    record(user, "member.joined", invitation, {"role": invitation.role}, org=org)
    return membership


def revoke_invitation(org: Organization, actor: User, invitation: Invitation) -> None:
    if not invitation.is_pending:
        raise DomainError("That invitation is no longer pending.")
    invitation.revoked_at = utcnow()
    record(actor, "member.invitation_revoked", invitation, {"email": invitation.email}, org=org)


def change_role(org: Organization, actor_membership: Membership, membership: Membership, role: str) -> None:
    _check_role(role)
    _guard_actor(actor_membership, membership.role, role)
    if membership.role == OWNER and role != OWNER and owner_count(org) <= 1:
        raise DomainError("The last owner cannot be demoted. Transfer ownership first.", code="last_owner")
    old = membership.role
    membership.role = role
    record(
        actor_membership.user,
        "member.role_changed",
        membership,
        {"user_id": membership.user_id, "from": old, "to": role},
        org=org,
    )


def remove_member(org: Organization, actor_membership: Membership, membership: Membership) -> None:
    _guard_actor(actor_membership, membership.role)
    if membership.role == OWNER and owner_count(org) <= 1:
        raise DomainError("The last owner cannot be removed.", code="last_owner")
    record(actor_membership.user, "member.removed", membership, {"user_id": membership.user_id}, org=org)
    db.session.delete(membership)


def leave_organization(org: Organization, membership: Membership) -> None:
    if membership.role == OWNER and owner_count(org) <= 1:
        raise DomainError("You are the last owner. Transfer ownership or delete the organization.", code="last_owner")
    record(membership.user, "member.left", membership, {"user_id": membership.user_id}, org=org)
    db.session.delete(membership)


def transfer_ownership(org: Organization, actor_membership: Membership, target: Membership) -> None:
    if actor_membership.role != OWNER:
        raise Forbidden("Only an owner can transfer ownership.")
    if target.id == actor_membership.id:
        raise DomainError("Choose another member.", field="member_id")
    target.role = OWNER
    actor_membership.role = ADMIN
    record(
        actor_membership.user,
        "organization.ownership_transferred",
        org,
        {"to_user_id": target.user_id},
        org=org,
    )


def update_organization(org: Organization, actor: User, name: str, email: str, country: str, timezone: str) -> None:
    if not name.strip():
        raise DomainError("Give the organization a name.", field="name")
    if timezone not in TIMEZONES:
        raise DomainError("Choose a time zone from the list.", field="timezone")
    org.name, org.email, org.country, org.timezone = (
        name.strip()[:120],
        email.strip().lower(),
        country.upper()[:2],
        timezone,
    )
    record(actor, "organization.updated", org)


_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")
_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,15}$")


def update_address(
    org: Organization,
    actor: User,
    *,
    address_line: str,
    postal_code: str,
    city: str,
    country: str,
    phone: str,
) -> None:
    """The postal address and phone printed on invoices; empty fields are cleared, bad ones refused."""
    from webapp.orgs.countries import COUNTRY_NAMES

    values = {
        "address_line": " ".join((address_line or "").split()),
        "postal_code": (postal_code or "").strip().upper(),
        "city": " ".join((city or "").split()),
        "phone": " ".join((phone or "").split()),
    }
    limits_ = {"address_line": 200, "postal_code": 16, "city": 100, "phone": 32}
    for name, value in values.items():
        if len(value) > limits_[name]:
            raise DomainError(f"Keep this under {limits_[name]} characters.", field=name)
        if any(ord(ch) < 32 for ch in value):
            raise DomainError(N_("Remove the control characters."), field=name)
    if values["phone"] and (not _PHONE.match(values["phone"]) or sum(ch.isdigit() for ch in values["phone"]) < 5):
        raise DomainError(N_("Write the phone number with digits, spaces and an optional leading +."), field="phone")
    if values["postal_code"] and not _POSTAL.match(values["postal_code"]):
        raise DomainError(N_("A postal code has letters, digits, spaces and dashes only."), field="postal_code")
    if values["city"] and not values["address_line"]:
        raise DomainError(N_("Add the street address that goes with the city."), field="address_line")
    if (country or "").upper() not in COUNTRY_NAMES:
        raise DomainError(N_("Choose a country from the list."), field="country")
    changed = {
        name: value
        for name, value in {**values, "country": country.upper()}.items()
        if (getattr(org, name) or "") != value
    }
    for name, value in changed.items():
        setattr(org, name, value or (None if name != "country" else value))
    if changed:
        record(actor, "organization.address_updated", org, {"fields": sorted(changed)})


def delete_organization(org: Organization, actor: User, confirmation: str) -> None:
    """Soft delete: members lose access at once, records stay for accounting, the slug is freed."""
    if confirmation.strip() != org.slug:
        raise DomainError("Type the organization's address exactly to confirm.", field="confirm_slug")
    record(actor, "organization.deleted", org, {"slug": org.slug})
    org.deleted_at = utcnow()
    for invitation in pending_invitations(org):
        invitation.revoked_at = org.deleted_at
    org.slug = f"deleted-{org.id}-{secrets.token_hex(4)}"


def reader_of(to: str, user=None, org=None) -> User | None:
    """Whose language an e-mail is written in: the user it is for, else the account with that address,
    else (a message to an organization's own address) the organization's owner; none: English."""
    if user is not None:
        return user if isinstance(user, User) else db.session.get(User, user)
    found = db.session.scalar(select(User).where(func.lower(User.email) == (to or "").lower()))
    if found is not None or org is None:
        return found
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == getattr(org, "id", org), Membership.role == OWNER)
        .order_by(Membership.id)
        .limit(1)
    )
