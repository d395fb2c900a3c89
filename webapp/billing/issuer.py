"""Who issues the invoices: the company's name, address, tax number and contact e-mail, kept in system
settings (staff change them in the console) and printed on invoice pages, invoice PDFs and credit notes."""

from __future__ import annotations

import re

from webapp.settings.registry import define, get

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_TAX_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./\-]*$")


def _no_control_characters(value: str) -> str | None:
    if any(ord(ch) < 32 for ch in value):
        return "remove the control characters"
    return None


def _required_text(value: str) -> str | None:
    if not value:
        return "this is printed on every invoice; it cannot be empty"
    return _no_control_characters(value)


def _email(value: str) -> str | None:
    if not _EMAIL.match(value):
        return "enter an e-mail address such as accounts@example.com"
    return None


def _tax_number(value: str) -> str | None:
    if value and not _TAX_NUMBER.match(value):
        return "letters, digits, spaces, dots, dashes and slashes only"
    return None


define(
    "billing.issuer_name",
    str,
    "Tessera Systems (Pvt) Ltd",
    "The company that issues invoices and credit notes, as printed at their top",
    label="Issuer company name",
    max_length=120,
    check=_required_text,
)
define(
    "billing.issuer_address",
    str,
    "14 Samora Machel Avenue, Harare, Zimbabwe",
    "The issuer's postal address; commas start a new line on the invoice",
    label="Issuer address",
    max_length=300,
    check=_required_text,
)
define(
    "billing.issuer_tax_number",
    str,
    "BP 200 123 456",
    "Tax or company registration number printed on invoices (empty: not printed)",
    label="Issuer tax / registration number",
    max_length=40,
    check=_tax_number,
)
define(
    "billing.issuer_email",
    str,
    "accounts@tessera.example",
    "Where customers write about an invoice",
    label="Issuer contact e-mail",
    max_length=254,
    check=_email,
)


def issuer_details() -> dict:
    """The issuer block: name, address lines, tax number, e-mail (read once per request)."""
    address = get("billing.issuer_address")
    return {
        "name": get("billing.issuer_name"),
        "address_lines": [part.strip() for part in address.split(",") if part.strip()],
        "tax_number": get("billing.issuer_tax_number"),
        "email": get("billing.issuer_email"),
    }
