"""Sweeps over the whole URL map, so routes added later are checked without anyone writing a test.

Tenancy: every /o/<slug>/… route is behind ``org_view`` and answers 404 to a member of another
organization, also when that member uses their own slug with the first organization's object ids.
Object ids come from ``SAMPLES`` in every ``tests/<domain>/sweep_samples.py``.

CSRF: every state-changing route outside the token-less areas answers 400 without a token.
"""

from __future__ import annotations

import importlib
import importlib.util
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from tests.factories import make_org, make_user
from webapp.auth.models import UserSession
from webapp.extensions import csrf, db

ORG_PREFIX = "/o/<slug>/"
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Areas that authenticate otherwise (API key, provider signature, OAuth state, sandbox) and so take
# no browser CSRF token. CSRF exemption may be used there and nowhere else.
CSRF_FREE_PREFIXES = ("/api/", "/webhooks/", "/sandbox/", "/oauth/")


SHARED: set[str] = set()  # variables naming objects no organization owns (e.g. a public template catalog)


def load_samples() -> dict:
    """Merge ``SAMPLES`` of every tests/*/sweep_samples.py (first definition of a name wins).

    A domain whose /o/<slug>/ routes show objects shared by every organization (a marketplace
    catalog) lists those variable names in ``SHARED`` beside ``SAMPLES``: they are swept with the
    other organization's slug only, since any member may see them through their own."""
    samples: dict = {}
    for path in sorted(Path(__file__).parent.glob("*/sweep_samples.py")):
        if (path.parent / "__init__.py").exists():
            module = importlib.import_module(f"tests.{path.parent.name}.sweep_samples")
        else:
            spec = importlib.util.spec_from_file_location(f"sweep_samples_{path.parent.name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        for name, make in getattr(module, "SAMPLES", {}).items():
            samples.setdefault(name, make)
        SHARED.update(getattr(module, "SHARED", ()))
    return samples


def org_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(ORG_PREFIX)), key=lambda r: r.rule)


def fixed_values(rule) -> dict:
    """Variables whose values the rule itself lists (``<any(a, b):name>``) need no sample."""
    return {
        name: sorted(converter.items)[0]
        for name, converter in rule._converters.items()
        if type(converter).__name__ == "AnyConverter"
    }


def id_variables(rule) -> list[str]:
    return sorted(rule.arguments - {"slug"} - set(fixed_values(rule)))


def build(app, rule, values: dict) -> str:
    values = {**fixed_values(rule), **values}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=None, force_external=False)


def answer(client, method: str, url: str):
    """The status code, or the exception a broken view raised (the test app propagates them)."""
    try:
        if method == "GET":
            return client.get(url).status_code
        return client.client.open(url, method=method, data={"sweep": "1"}).status_code
    except Exception as error:
        return f"an exception: {type(error).__name__}: {error}"


def sweep_methods(rule) -> list[str]:
    return [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in rule.methods]


@contextmanager
def csrf_disabled(app):
    before = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = before


class Ids:
    """One real object per URL variable in ``org``, made on first use by the domain's sample."""

    def __init__(self, samples, org, user):
        self.samples, self.org, self.user, self.made = samples, org, user, {}

    def __call__(self, name: str):
        if name not in self.made:
            try:
                self.made[name] = self.samples[name](self.org, self.user)
            except Exception as error:
                db.session.rollback()
                raise SampleBroken(f"the sweep sample for <{name}> raised {type(error).__name__}: {error}") from error
        return self.made[name]


class SampleBroken(Exception):
    pass


def missing_samples(rules, samples) -> list[str]:
    """One line per URL variable that no tests/*/sweep_samples.py provides."""
    missing: dict[str, list[str]] = {}
    for rule in rules:
        for name in id_variables(rule):
            if name not in samples:
                missing.setdefault(name, []).append(rule.rule)
    return [
        f'<{name}> (used by {", ".join(sorted(set(used)))}) has no tenancy-sweep sample: add SAMPLES["{name}"] = '
        "callable(org, user) returning the id (or value) of one committed object of that org, "
        "in tests/<domain>/sweep_samples.py"
        for name, used in sorted(missing.items())
    ]


def test_every_org_route_uses_org_view_and_has_samples(app):
    rules = org_rules(app)
    assert rules, "no /o/<slug>/ routes found"
    unguarded = [
        f"{r.rule} ({r.endpoint})" for r in rules if not hasattr(app.view_functions[r.endpoint], "org_permission")
    ]
    assert not unguarded, f"these /o/<slug>/ routes are not wrapped by @org_view(...): {unguarded}"
    missing = missing_samples(rules, load_samples())
    assert not missing, "\n".join(missing)


def test_tenancy_sweep_other_orgs_objects_are_404(app, make_client, ctx):
    samples = load_samples()
    owner_a = make_user("sweep-owner-a@example.com")
    org_a = make_org(owner_a, "Sweep A", "sweep-a")
    owner_b = make_user("sweep-owner-b@example.com")
    org_b = make_org(owner_b, "Sweep B", "sweep-b")
    ids_a = Ids(samples, org_a, owner_a)
    rules = org_rules(app)
    missing = missing_samples(rules, samples)
    sweepable = [r for r in rules if all(name in samples for name in id_variables(r))]

    intruder = make_client()
    intruder.login(owner_b.email)
    failures, checked = [], 0
    with csrf_disabled(app):
        for rule in sweepable:
            try:
                values = {name: ids_a(name) for name in id_variables(rule)}
            except SampleBroken as error:
                failures.append(f"{rule.rule}: {error}")
                continue
            has_ids = any(name.endswith("_id") and name not in SHARED for name in values)
            for method in sweep_methods(rule):
                # A's slug: B's owner is no member there. B's slug with A's ids: the objects are not B's.
                for slug in (org_a.slug, org_b.slug) if has_ids else (org_a.slug,):
                    url = build(app, rule, {**values, "slug": slug})
                    status = answer(intruder, method, url)
                    checked += 1
                    if status != 404:
                        failures.append(f"{method} {url} ({rule.endpoint}) answered {status}")
    assert checked > 0
    # the owner of A reaches the same objects, so the 404s above are about tenancy, not broken ids
    # (rules with one id only: samples of nested ids are made independently and need not belong together)
    owner = make_client()
    owner.login(owner_a.email)
    for rule in sweepable:
        names = id_variables(rule)
        if "GET" in rule.methods and len(names) == 1 and names[0].endswith("_id") and names[0] in ids_a.made:
            url = build(app, rule, {names[0]: ids_a.made[names[0]], "slug": org_a.slug})
            status = answer(owner, "GET", url)
            if status == 404:
                failures.append(f"GET {url} ({rule.endpoint}) is 404 even for the owner of its organization")
    assert not failures, "another organization's objects must answer 404:\n" + "\n".join(failures)
    assert not missing, "\n".join(missing)


def _exempt(app, rule) -> bool:
    view = app.view_functions[rule.endpoint]
    if f"{view.__module__}.{view.__name__}" in csrf._exempt_views:
        return True
    if "." not in rule.endpoint:
        return False
    blueprint_name = rule.endpoint.rsplit(".", 1)[0]
    names = blueprint_name.split(".")
    return any(app.blueprints.get(".".join(names[: i + 1])) in csrf._exempt_blueprints for i in range(len(names)))


def test_csrf_exemption_only_where_it_belongs(app):
    exempt = [r.rule for r in app.url_map.iter_rules() if _exempt(app, r)]
    misplaced = [rule for rule in exempt if not rule.startswith(CSRF_FREE_PREFIXES)]
    assert not misplaced, f"CSRF exemption outside {CSRF_FREE_PREFIXES}: {misplaced}"


def _fallback_value(rule, name: str, user, org):
    """A real value for variables outside the org samples (the CSRF check runs before the view)."""
    converter = rule._converters.get(name)
    if name in ("user_id",):
        return user.id
    if name in ("org_id", "organization_id"):
        return org.id
    if name == "session_id":
        return db.session.scalar(select(UserSession.id).where(UserSession.user_id == user.id)) or 1
    if isinstance(converter, NumberConverter):
        return 1
    return "sweep"


def test_csrf_sweep_state_changing_routes_refuse_without_token(app, make_client, ctx):
    assert current_app.config.get("WTF_CSRF_ENABLED", True)
    samples = load_samples()
    staff = make_user("sweep-staff@example.com", staff=True)
    org = make_org(staff, "Sweep CSRF", "sweep-csrf")
    ids = Ids(samples, org, staff)
    browser = make_client()
    browser.login(staff.email)
    failures, checked = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = [m for m in STATE_CHANGING if m in rule.methods]
        if not methods or rule.rule.startswith(CSRF_FREE_PREFIXES) or rule.endpoint == "static":
            continue
        values = {}
        for name in id_variables(rule) + (["slug"] if "slug" in rule.arguments else []):
            if name == "slug":
                values[name] = org.slug
            elif name in samples:
                try:
                    values[name] = ids(name)
                except SampleBroken:
                    values[name] = _fallback_value(rule, name, staff, org)
            else:
                values[name] = _fallback_value(rule, name, staff, org)
        url = build(app, rule, values)
        for method in methods:
            status = answer(browser, method, url)
            checked += 1
            if status != 400:
                failures.append(f"{method} {url} ({rule.endpoint}) answered {status}")
    assert checked > 10
    assert not failures, "state-changing routes must refuse a request without a CSRF token:\n" + "\n".join(failures)
    # and the browser is still signed in: the refusals changed nothing
    assert browser.get("/account/").status_code == 200


@pytest.mark.parametrize("path", ["/auth/logout", "/orgs/new", "/auth/login"])
def test_csrf_refusal_is_a_readable_page_and_json(client, path):
    page = client.post(path, csrf=False)
    assert page.status_code == 400 and "form expired" in page.get_data(as_text=True)
    api_style = client.post(path, csrf=False, headers={"Accept": "application/json"})
    assert api_style.status_code == 400 and api_style.json["error"]["code"] == "csrf_failed"
