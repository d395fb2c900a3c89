"""CSV export of invoice lists and the PDF of one invoice (fpdf2, pure Python)."""

from __future__ import annotations

import csv
import io

from fpdf import FPDF

from webapp.core.i18n import in_english
from webapp.core.money import format_amount

CSV_COLUMNS = (
    "number",
    "organization",
    "status",
    "currency",
    "period_start",
    "period_end",
    "issued_at",
    "due_at",
    "subtotal",
    "tax",
    "total",
    "amount_paid",
    "amount_due",
    "paid_at",
)


def _cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def _safe_cell(text: str) -> str:
    # A spreadsheet must not run a formula that came from a customer-chosen name.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def invoices_csv(invoices) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for inv in invoices:
        writer.writerow(
            [
                inv.number or f"DRAFT-{inv.id}",
                _safe_cell(inv.organization.name),
                inv.status,
                inv.currency,
                inv.period_start.isoformat(),
                inv.period_end.isoformat(),
                inv.issued_at.date().isoformat() if inv.issued_at else "",
                inv.due_at.date().isoformat() if inv.due_at else "",
                _cents(inv.subtotal),
                _cents(inv.tax),
                _cents(inv.total),
                _cents(inv.amount_paid),
                _cents(inv.amount_due),
                inv.paid_at.date().isoformat() if inv.paid_at else "",
            ]
        )
    return out.getvalue()


def _latin(text: str) -> str:
    return (text or "").replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def _logo(pdf: FPDF, org) -> None:
    """The organization's logo in the top right corner, when it has one (a 256 px PNG, 20 mm wide)."""
    from webapp.files.branding import logo_bytes

    png = logo_bytes(org) if getattr(org, "logo_file_id", None) else None
    if png:
        pdf.image(io.BytesIO(png), x=pdf.w - pdf.r_margin - 20, y=pdf.t_margin, w=20, h=20)


def parties(pdf: FPDF, org) -> None:
    """The issuer (system settings) on the left and the customer (the organization's address) on the
    right, as at the top of the invoice page."""
    from webapp.billing.issuer import issuer_details

    issuer = issuer_details()
    left = [issuer["name"], *issuer["address_lines"]]
    if issuer["tax_number"]:
        left.append(f"Tax / reg. no. {issuer['tax_number']}")
    left.append(issuer["email"])
    right = [org.name, *org.address_lines]
    if org.phone:
        right.append(f"Phone {org.phone}")
    right.append(org.email)
    top = pdf.get_y()
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(95, 5, "From", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in left:
        pdf.cell(95, 5, _latin(line)[:70], new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(65, 5, "Billed to", new_x="LEFT", new_y="NEXT")  # 65 mm: the logo sits in the corner beside it
    pdf.set_font("Helvetica", "", 9)
    for line in right:
        pdf.cell(65, 5, _latin(line)[:44], new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(bottom, pdf.get_y()) + 4)


@in_english
def invoice_pdf(invoice) -> bytes:
    """The same content as the invoice page: parties, number, dates, lines, totals, payments."""
    org = invoice.organization
    money = lambda cents: format_amount(cents, invoice.currency)  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_creator("Tessera")
    pdf.add_page()
    _logo(pdf, org)
    parties(pdf, org)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin(f"Invoice {invoice.display_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    rows = [
        ("Status", invoice.status.title()),
        ("Period", f"{invoice.period_start:%d %b %Y} - {invoice.period_end:%d %b %Y}"),
        ("Issued", f"{invoice.issued_at:%d %b %Y}" if invoice.issued_at else "-"),
        ("Due", f"{invoice.due_at:%d %b %Y}" if invoice.due_at else "-"),
    ]
    for label, value in rows:
        pdf.cell(35, 6, _latin(label))
        pdf.cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    widths = (100, 20, 35, 35)
    for width, head in zip(widths, ("Description", "Qty", "Unit price", "Amount"), strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in invoice.lines:
        pdf.cell(widths[0], 6, _latin(line.description[:60]))
        pdf.cell(widths[1], 6, str(line.quantity), align="R")
        pdf.cell(widths[2], 6, money(line.unit_price), align="R")
        pdf.cell(widths[3], 6, money(line.total), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    totals = [
        ("Subtotal", invoice.subtotal),
        (f"Tax ({invoice.tax_rate_bps / 100:g}%)", invoice.tax),
        ("Total", invoice.total),
        ("Paid", invoice.amount_paid),
        ("Amount due", invoice.amount_due),
    ]
    for label, value in totals:
        pdf.set_font("Helvetica", "B" if label in ("Total", "Amount due") else "", 10)
        pdf.cell(sum(widths[:3]), 6, label, align="R")
        pdf.cell(widths[3], 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    paid = [p for p in invoice.payments if p.status == "PAID"]
    if paid:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, "Payments", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for p in paid:
            when = f"{p.completed_at:%d %b %Y}" if p.completed_at else ""
            pdf.cell(0, 6, _latin(f"{when}  {p.method_label}  {money(p.amount)}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
