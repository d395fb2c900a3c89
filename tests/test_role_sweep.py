"""Role sweep over the URL map: every /o/<slug>/… route, as each role, against the permission table.

Each route names its permission with ``@org_view("<permission>")`` (recorded on the view as
``org_permission``); ``PERMISSIONS`` in ``webapp/core/access.py`` says which roles hold it. For
every route, method and role the sweep expects exactly 403 where the role lacks the permission
and anything but 403 where it holds it, so a new route is checked the day it is added and a
route that refuses a permitted role in its body (a second, hidden rule) is found.

A refusal runs before the view, so the denied requests change nothing (``WriteWatch``). Permitted
GETs run first; permitted writes last, with benign form data, each followed by putting the sweep's
organization and memberships back (a permitted "leave" or "remove member" must not end the sweep).
"""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from tests.test_hostile_sweep import WriteWatch
from tests.test_sweeps import Ids, SampleBroken, answer, build, csrf_disabled, id_variables, load_samples, org_rules
from webapp.core.access import PERMISSIONS, ROLES
from webapp.extensions import db
from webapp.orgs.models import Membership, Organization

# Routes whose body may refuse a permitted role for a reason other than the role; each with why. An entry
# must still refuse someone in the sweep (so it is removed with the rule).
OBJECT_RULES = {
    "files.delete": "only the uploader or an owner deletes a file (the sample file is the owner's)",
    "files.download": "a download link must carry an unexpired signature; the bare URL answers 403",
}

# Routes open to every member ("view"): the table's catch-all, so each is listed with why (a new route
# that names "view" without thinking about it fails here).
EVERY_MEMBER = {
    "orgs.dashboard": "the organization's home page, the first page every member lands on",
    "orgs.leave": "any member may leave (the last owner is refused by the service, not by role)",
}


def restore(org_id: int, expected: dict[int, str]) -> None:
    """Undo what a permitted write did to the sweep's own standing: the org deleted, a role changed, a member gone."""
    db.session.rollback()
    org = db.session.get(Organization, org_id)
    if org.deleted_at is not None:
        org.deleted_at = None
    rows = {
        m.user_id: m for m in db.session.scalars(select(Membership).where(Membership.organization_id == org_id)).all()
    }
    for user_id, role in expected.items():
        if user_id not in rows:
            db.session.add(Membership(organization_id=org_id, user_id=user_id, role=role))
        elif rows[user_id].role != role:
            rows[user_id].role = role
    db.session.commit()


def test_every_permission_of_every_org_route_holds_for_every_role(app, make_client, ctx):
    rules = org_rules(app)
    assert rules
    undeclared = [r.rule for r in rules if getattr(app.view_functions[r.endpoint], "org_permission", None) is None]
    assert not undeclared, f"these /o/<slug>/ routes declare no permission (@org_view(...)): {undeclared}"
    unknown = sorted(
        {app.view_functions[r.endpoint].org_permission for r in rules} - set(PERMISSIONS),
    )
    assert not unknown, f"permissions missing from the table: {unknown}"
    open_to_all = {r.endpoint for r in rules if app.view_functions[r.endpoint].org_permission == "view"}
    unlisted = sorted(open_to_all - set(EVERY_MEMBER))
    assert not unlisted, (
        'these routes are open to every member (@org_view("view")); name a narrower permission '
        f"or list them in EVERY_MEMBER with why: {unlisted}"
    )
    stale = (set(OBJECT_RULES) - {r.endpoint for r in rules}) | (set(EVERY_MEMBER) - open_to_all)
    assert not stale, f"OBJECT_RULES or EVERY_MEMBER name routes that are gone or changed: {sorted(stale)}"

    owner = make_user("role-sweep-owner@example.com")
    org = make_org(owner, "Role Sweep", "role-sweep")
    users = {"OWNER": owner}
    for role in ROLES:
        if role != "OWNER":
            users[role] = make_user(f"role-sweep-{role.lower()}@example.com")
            add_member(org, users[role], role)
    expected = {user.id: role for role, user in users.items()}
    emails = {role: user.email for role, user in users.items()}
    ids = Ids(load_samples(), org, owner)
    clients = {}
    for role in ROLES:
        clients[role] = make_client()
        clients[role].login(emails[role])

    urls, failures, excused = [], [], set()
    for rule in rules:
        try:
            values = {name: ids(name) for name in id_variables(rule)}
        except SampleBroken as error:
            failures.append(f"{rule.rule}: {error}")
            continue
        urls.append((rule, build(app, rule, {**values, "slug": org.slug})))
    org_id = org.id
    db.session.commit()

    def check(role, method, rule, url, status):
        permission = app.view_functions[rule.endpoint].org_permission
        allowed = role in PERMISSIONS[permission]
        if not isinstance(status, int):
            failures.append(f"{role} {method} {url} ({rule.endpoint}) raised {status}")
        elif not allowed and status != 403:
            failures.append(f"{role} {method} {url} ({rule.endpoint}, needs {permission!r}) answered {status}, not 403")
        elif allowed and status == 403 and rule.endpoint in OBJECT_RULES:
            excused.add(rule.endpoint)
        elif allowed and status == 403:
            failures.append(f"{role} {method} {url} ({rule.endpoint}, {permission!r} holds) was refused with 403")

    denied = 0
    with csrf_disabled(app):
        with WriteWatch(db.engine) as writes:
            for rule, url in urls:
                permission = app.view_functions[rule.endpoint].org_permission
                for role in ROLES:
                    methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in rule.methods]
                    allowed = role in PERMISSIONS[permission]
                    for method in methods if not allowed else [m for m in methods if m == "GET"]:
                        writes.take()
                        status = answer(clients[role], method, url)
                        check(role, method, rule, url, status)
                        if not allowed:
                            denied += 1
                            changed = writes.take()
                            if changed:
                                failures.append(f"{role} {method} {url} was refused but wrote {sorted(changed)}")
        permitted_writes = 0
        for rule, url in urls:
            permission = app.view_functions[rule.endpoint].org_permission
            for role in ROLES:
                if role not in PERMISSIONS[permission]:
                    continue
                for method in (m for m in ("POST", "PUT", "PATCH", "DELETE") if m in rule.methods):
                    check(role, method, rule, url, answer(clients[role], method, url))
                    permitted_writes += 1
                    restore(org_id, expected)
                    if clients[role].get("/account/").status_code != 200:
                        clients[role].login(emails[role])
    print(f"role sweep: {len(urls)} routes, {denied} refusals, {permitted_writes} permitted writes")
    assert denied > 100 and permitted_writes > 100
    unused = set(OBJECT_RULES) - excused
    assert not unused, f"these no longer refuse a permitted role: remove them from OBJECT_RULES: {sorted(unused)}"
    assert not failures, f"{len(failures)} role-sweep failures:\n" + "\n".join(failures)
