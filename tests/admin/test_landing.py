"""Where a sign-in lands: staff on the console, customers in their organization, ``next`` wins."""

from tests.factories import PASSWORD, make_org, make_user


def test_staff_sign_in_lands_on_the_console_not_a_personal_workspace(client, ctx):
    staff = make_user("staff-landing@example.com", staff=True)
    make_org(staff)  # staff who also own a workspace still start on the console
    response = client.login("staff-landing@example.com")
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/").headers["Location"] == "/admin/"  # the front door too, later in the day


def test_a_customer_lands_in_their_organization_and_next_still_wins(client, ctx):
    owner = make_user("owner-landing@example.com")
    org = make_org(owner)
    response = client.login("owner-landing@example.com")
    assert response.headers["Location"] == "/o/"
    assert client.get("/o/").headers["Location"].endswith(f"/o/{org.slug}/")
    client.post("/auth/logout")
    make_user("staff-next@example.com", staff=True)
    nxt = client.post("/auth/login?next=/account/", {"email": "staff-next@example.com", "password": PASSWORD})
    assert nxt.status_code == 303 and nxt.headers["Location"] == "/account/"


def test_a_customer_asking_for_the_console_after_sign_in_is_not_shown_it(client, ctx):
    make_user("nosy-landing@example.com")
    response = client.post("/auth/login?next=/admin/", {"email": "nosy-landing@example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 404
