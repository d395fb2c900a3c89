"""Languages of the customer and creator pages: English and Japanese, chosen per person.

- The language is the user's own choice (``users.locale``, set on the account page); without one,
  the browser's Accept-Language decides; English when neither names a language we have.
- The staff console (``/admin``) reads in English for everyone, so staff compare organizations in
  one language; so do the JSON API and provider callbacks, which programs read.
- E-mails are rendered in the recipient's language (``for_user`` around the rendering).
- The catalogues are ``translations/<lang>/LC_MESSAGES/messages.po``; the compiled ``.mo`` is
  built from them when the app starts (and is not kept in git), so a checkout always runs with
  the translations of its own ``.po``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import Babel, force_locale, get_locale

P = ParamSpec("P")
R = TypeVar("R")
LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT = "en"
# The staff console, and what programs read (the JSON API, provider callbacks): English for everyone.
ENGLISH_ONLY = ("/admin", "/api", "/webhooks")
TRANSLATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "translations")


def compile_catalogues(directory: str = TRANSLATIONS) -> list[str]:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older; the paths compiled.

    Written to a temporary file then renamed, so two processes starting together never read a
    half-written catalogue."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled: list[str] = []
    if not os.path.isdir(directory):
        return compiled
    for lang in sorted(os.listdir(directory)):
        folder = os.path.join(directory, lang, "LC_MESSAGES")
        po, mo = os.path.join(folder, "messages.po"), os.path.join(folder, "messages.mo")
        if not os.path.isfile(po):
            continue
        if os.path.isfile(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        with open(po, "rb") as source:
            catalog = read_po(source, locale=lang)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as target:
            write_mo(target, catalog)
        os.replace(tmp, mo)
        compiled.append(mo)
    return compiled


def choose_locale() -> str:
    """The person's language: their profile's, else their browser's, else English."""
    if not has_request_context():
        return g.get("mail_locale") or DEFAULT
    if request.path.startswith(ENGLISH_ONLY):
        return DEFAULT
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        chosen = getattr(current_user.user, "locale", None)
        if chosen in LANGUAGES:
            return chosen
    return browser_language()


def browser_language() -> str:
    """The language the browser asks for (Accept-Language), else English; what a payer without an
    account reads, and the outage page, which cannot look anyone's profile up."""
    if not has_request_context() or request.path.startswith(ENGLISH_ONLY):
        return DEFAULT
    return request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT


def language() -> str:
    """The language of what is being rendered ("en", "ja")."""
    try:
        locale = get_locale()
    except RuntimeError:  # outside any app context: nothing to translate into
        return DEFAULT
    return locale.language if locale is not None else DEFAULT


def is_english() -> bool:
    return language() == DEFAULT


@contextlib.contextmanager
def for_user(user) -> Iterator[None]:
    """Render in ``user``'s language (an e-mail to them): their choice, else English."""
    chosen = getattr(user, "locale", None) if user is not None else None
    with force_locale(chosen if chosen in LANGUAGES else DEFAULT):
        yield


def in_english(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` renders in English whoever asks: the PDFs, whose fonts carry Latin script only."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not has_app_context():
            return func(*args, **kwargs)
        with force_locale(DEFAULT):
            return func(*args, **kwargs)

    return wrapper


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", os.path.abspath(TRANSLATIONS))
    try:
        compile_catalogues(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    except OSError as error:  # a read-only checkout: the .mo compiled at install time, or English only
        logging.getLogger(__name__).warning("translations not compiled: %s", error)
    Babel(app, locale_selector=choose_locale)
    # ``{% trans %}`` blocks keyed on their words, not on the template's line breaks and indentation.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = language
