"""The countries an organization can be in (the settings form's choices, the invoice's address line)."""

COUNTRY_NAMES = {
    "ZW": "Zimbabwe",
    "ZA": "South Africa",
    "JP": "Japan",
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "KE": "Kenya",
    "BW": "Botswana",
}


def country_name(code: str | None) -> str:
    """The country in the reader's language: these names in English, CLDR's (through Babel) in others."""
    from webapp.core.i18n import is_english, language

    key = (code or "").upper()
    if key and not is_english():
        from babel import Locale

        return Locale.parse(language()).territories.get(key) or COUNTRY_NAMES.get(key, code or "")
    return COUNTRY_NAMES.get(key, code or "")
