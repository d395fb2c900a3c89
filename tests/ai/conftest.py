from tests.browser.conftest import browser, new_page  # noqa: F401  (Playwright fixtures for the browser test here)
