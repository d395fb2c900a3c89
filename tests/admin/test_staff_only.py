"""Every route on a staff blueprint (``staff_only = True``), including the ones other domains add
later, is invisible to customers (404) and sends anonymous visitors to the login page."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import make_user


def _samples(converter) -> list:
    """Values the converter accepts: ids are 1 (nothing has it yet), words "x", every choice of an any()."""
    from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

    if isinstance(converter, IntegerConverter | FloatConverter):
        return [1]
    if isinstance(converter, UUIDConverter):
        return ["00000000-0000-0000-0000-000000000001"]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    return ["x"]


def staff_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule of every staff-only blueprint, with arguments filled in."""
    staff_blueprints = {name for name, bp in app.blueprints.items() if getattr(bp, "staff_only", False)}
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if blueprint not in staff_blueprints:
            continue
        names = list(rule._converters)
        for combination in itertools.product(*(_samples(rule._converters[n]) for n in names)):
            values = dict(zip(names, combination, strict=True))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, adapter.build(rule.endpoint, values, method=method), rule.endpoint))
    return routes


def test_the_walk_finds_the_console(app):
    endpoints = {endpoint for _, _, endpoint in staff_routes(app)}
    expected = {
        "admin.index",
        "admin.orgs",
        "admin.orgs_detail",
        "admin.users",
        "admin.users_detail",
        "admin.users_suspend",
        "admin.users_unsuspend",
        "admin.settings",
        "admin.settings_edit",
        "admin.settings_reset",
        "admin.audit",
        "admin.emails",
        "admin.emails_detail",
        "admin.emails_body",
        "admin.emails_resend",
        "admin.jobs",
        "admin.jobs_retry",
        "admin.jobs_delete",
    }
    assert expected <= endpoints
    # nothing under /admin escapes the staff check
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            blueprint = app.blueprints.get(rule.endpoint.rsplit(".", 1)[0])
            assert getattr(blueprint, "staff_only", False), f"{rule.rule} ({rule.endpoint}) is not on a staff blueprint"


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": client.csrf()})


def test_customers_get_404_on_every_staff_route(app, client):
    with app.app_context():
        make_user("customer@example.com")
    client.login("customer@example.com")
    for method, url, endpoint in staff_routes(app):
        response = _request(client, method, url)
        assert response.status_code == 404, f"{method} {url} ({endpoint}) answered {response.status_code}"


def test_anonymous_visitors_are_sent_to_login_from_every_staff_route(app, client):
    for method, url, endpoint in staff_routes(app):
        response = _request(client, method, url)
        assert response.status_code in (302, 303), f"{method} {url} ({endpoint}) answered {response.status_code}"
        assert response.headers["Location"].startswith("/auth/login"), f"{method} {url}"


@pytest.mark.parametrize("path", ["/admin/", "/admin/users", "/admin/jobs"])
def test_a_suspended_staff_member_is_logged_out(app, make_client, path):
    with app.app_context():
        from webapp.core.models import utcnow
        from webapp.extensions import db

        staff_id = make_user("gone@example.com", staff=True).id
    client = make_client()
    client.login("gone@example.com")
    assert client.get(path).status_code == 200
    with app.app_context():
        from webapp.auth.models import User

        db.session.get(User, staff_id).suspended_at = utcnow()
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_a_nav_entry_without_a_page_stops_the_app_at_start(app):
    """Not a link left out at each render: the sidebar is checked once, when the app is built."""
    import pytest

    from webapp.admin import ADMIN_NAV, admin_nav_item
    from webapp.core.links import check_links, missing_endpoints

    admin_nav_item("Not built yet", "nowhere.index", 99)
    try:
        assert missing_endpoints(app) == ["nowhere.index"]
        with pytest.raises(RuntimeError, match=r"nowhere\.index"):
            check_links(app)
    finally:
        ADMIN_NAV[:] = [i for i in ADMIN_NAV if i.endpoint != "nowhere.index"]
    assert missing_endpoints(app) == []
