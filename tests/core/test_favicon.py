"""/favicon.ico answers (no 404 on every page) and every page links the SVG icon."""


def test_the_favicon_answers_and_every_page_links_it(client, ctx):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.get_data()
    assert icon.headers["Cache-Control"] == "public, max-age=86400"
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg' in page
