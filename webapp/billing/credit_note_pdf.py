"""The PDF of one credit note (fpdf2, like the invoice's)."""

from __future__ import annotations

from fpdf import FPDF

from webapp.billing.exports import _latin, _logo, parties
from webapp.core.i18n import in_english
from webapp.core.money import format_amount

DESTINATIONS = {
    "provider": "Refunded to the original payment method",
    "credit": "Added to the account's credit balance",
}


@in_english
def credit_note_pdf(note) -> bytes:
    invoice = note.invoice
    org = invoice.organization
    money = lambda cents: format_amount(cents, note.currency)  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(f"Credit note {note.number}")
    pdf.set_creator("Tessera")
    pdf.add_page()
    _logo(pdf, org)
    parties(pdf, org)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin(f"Credit note {note.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for label, value in (
        ("Invoice", invoice.number or ""),
        ("Issued", f"{note.issued_at:%d %b %Y}"),
        ("Reason", note.reason),
        ("Settlement", DESTINATIONS.get(note.destination, note.destination)),
    ):
        pdf.cell(35, 6, _latin(label))
        pdf.multi_cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(140, 7, "Description", border="B")
    pdf.cell(50, 7, "Amount credited", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in note.lines:
        pdf.cell(140, 6, _latin(line.description[:80]))
        pdf.cell(50, 6, money(line.amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rate = f"{invoice.tax_rate_bps / 100:g}%"
    for label, value in (("Subtotal", note.subtotal), (f"Tax ({rate})", note.tax), ("Total credited", note.total)):
        pdf.set_font("Helvetica", "B" if label == "Total credited" else "", 10)
        pdf.cell(140, 6, label, align="R")
        pdf.cell(50, 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
