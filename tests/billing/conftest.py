"""Billing tests: the Stripe sandbox's webhooks of one test are delivered before the next begins."""

import pytest


@pytest.fixture(autouse=True)
def stripe_webhooks_delivered():
    yield
    from webapp.integrations.sandboxes.stripe import STORE

    STORE.wait_for_deliveries()
