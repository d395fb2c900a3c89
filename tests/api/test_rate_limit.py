"""Each API key's hourly limit counts in Flask-Limiter: one window per key across every endpoint, each
key its own limit, and the answers carry the API's documented RateLimit-* headers, not Flask-Limiter's."""

from tests.api.helpers import bearer, org_with_key


def _flask_limiter_headers(response) -> list[str]:
    return [name for name, _ in response.headers.items() if name.lower().startswith("x-ratelimit")]


def test_one_window_per_key_across_every_endpoint(client, ctx):
    _, _, _, plain = org_with_key(rate_limit=2)
    _, _, _, other = org_with_key(rate_limit=1, email="second@example.com")
    api = client.client
    assert api.get("/api/v1/usage", headers=bearer(plain)).headers["RateLimit-Remaining"] == "1"
    assert api.get("/api/v1/services", headers=bearer(plain)).headers["RateLimit-Remaining"] == "0"
    refused = api.get("/api/v1/invoices", headers=bearer(plain))
    assert refused.status_code == 429
    assert refused.json["error"] == {
        "code": "rate_limited",
        "message": "This key may make 2 requests per hour.",
        "details": {"limit": 2, "reset_seconds": int(refused.headers["RateLimit-Reset"])},
    }
    # another key of another organization counts in its own window, against its own limit
    first = api.get("/api/v1/usage", headers=bearer(other))
    assert first.status_code == 200 and first.headers["RateLimit-Limit"] == "1"
    assert api.get("/api/v1/usage", headers=bearer(other)).status_code == 429
    # all of it counted in Redis: nothing in the API's traffic made the limiter fall back to memory
    assert api.get("/readyz").json["checks"]["rate_limits"] == "ok"


def test_answers_carry_only_the_documented_rate_limit_headers(client, ctx):
    _, _, _, plain = org_with_key(rate_limit=1)
    ok = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert ok.status_code == 200 and ok.headers["RateLimit-Limit"] == "1"
    assert "Retry-After" not in ok.headers and _flask_limiter_headers(ok) == []
    refused = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert refused.status_code == 429 and _flask_limiter_headers(refused) == []
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
