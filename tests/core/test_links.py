"""Every link a table names (the console's sidebar, its figures and counts, the audit log's entity
pages) resolves: the tables are checked at start, and each link here is built as the pages build it."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from webapp.admin import ADMIN_NAV, CONSOLE_COUNTS, CONSOLE_PAGES
from webapp.core.display import ENTITY_PAGES, ORG_PAGES, entity_url
from webapp.core.links import LINKED_ENDPOINTS, check_links, missing_endpoints


def test_every_linked_endpoint_is_a_page_of_the_app(app):
    assert missing_endpoints(app) == []
    listed = {e for listed in LINKED_ENDPOINTS for e in listed()}
    assert {i.endpoint for i in ADMIN_NAV} | {c.endpoint for c in CONSOLE_COUNTS} <= listed
    assert set(CONSOLE_PAGES.values()) | set(ORG_PAGES.values()) <= listed
    assert {"subscriptions", "invoices", "payments", "organizations"} <= set(CONSOLE_PAGES)


def test_every_link_builds_with_the_values_its_page_passes(app):
    with app.test_request_context():
        for item in ADMIN_NAV:
            assert url_for(item.endpoint).startswith("/admin")
        for count in CONSOLE_COUNTS:
            assert url_for(count.endpoint).startswith("/admin")
        for entity_type in ENTITY_PAGES:
            assert entity_url(entity_type, 7), entity_type
        for entity_type in ORG_PAGES:
            assert entity_url(entity_type, 7, organization_id=3), entity_type
        assert entity_url("Invoice", "not a number") is None
        assert entity_url("Nothing we show", 7) is None


def test_an_app_whose_table_names_a_missing_page_refuses_to_start():
    bare = Flask(__name__)
    LINKED_ENDPOINTS.append(lambda: ["nowhere.page"])
    try:
        with pytest.raises(RuntimeError, match=r"nowhere\.page"):
            check_links(bare)
    finally:
        LINKED_ENDPOINTS.pop()
