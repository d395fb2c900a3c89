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
    return COUNTRY_NAMES.get((code or "").upper(), code or "")
