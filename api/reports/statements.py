"""Investor statements: a month's every cash movement (from the ledger's postings to the investor's cash
account) with opening and closing balances, as HTML or PDF (reportlab); and a year's summary of interest, late
fees, recoveries, servicing fees and losses (charged-off principal)."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.errors import InvalidInput
from api.kit.money import format_cents
from api.reports import repository as repo


@dataclass(frozen=True)
class Movement:
    at: datetime
    kind: str
    description: str
    amount_cents: int


@dataclass(frozen=True)
class Statement:
    investor_id: int
    username: str
    month: str
    opening_cents: int
    closing_cents: int
    movements: list[Movement]


@dataclass(frozen=True)
class AnnualSummary:
    year: int
    interest_cents: int
    late_fees_cents: int
    recoveries_cents: int
    servicing_fees_cents: int
    charged_off_cents: int

    @property
    def net_cents(self) -> int:
        return (
            self.interest_cents
            + self.late_fees_cents
            + self.recoveries_cents
            - self.servicing_fees_cents
            - self.charged_off_cents
        )


def parse_month(month: str) -> date:
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInput("a statement month is YYYY-MM") from None
    if not 2000 <= start.year <= 2100:
        raise InvalidInput("a statement month is between 2000 and 2100")
    return start


def statement(session: Session, caller: Caller, month: str) -> Statement:
    i = caller.investor()
    start = parse_month(month)
    end = start + relativedelta(months=1)
    opening = repo.cash_before(session, i, start)
    rows = repo.cash_movements(session, i, start, end)
    movements = [Movement(_moment(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]
    return Statement(i, caller.username, month, opening, opening + sum(m.amount_cents for m in movements), movements)


def _moment(value: datetime | str) -> datetime:
    """A timestamp from a textual query (SQLite hands back its stored string)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def annual_summary(session: Session, caller: Caller, year: int) -> AnnualSummary:
    if not 2000 <= year <= 2100:
        raise InvalidInput("a year between 2000 and 2100")
    i = caller.investor()
    flows = [f for f in repo.note_flows(session, i) if f[1].year == year]
    losses = sum(p for on, p in repo.note_charge_offs(session, i).values() if on.year == year)
    return AnnualSummary(
        year=year,
        interest_cents=sum(f[3] for f in flows),
        late_fees_cents=sum(f[4] for f in flows),
        recoveries_cents=sum(f[5] for f in flows),
        servicing_fees_cents=sum(f[6] for f in flows),
        charged_off_cents=losses,
    )


def as_html(s: Statement) -> str:
    rows = "".join(
        f"<tr><td>{m.at:%Y-%m-%d %H:%M}</td><td>{html.escape(m.kind)}</td><td>{html.escape(m.description)}</td>"
        f"<td class='n'>{format_cents(m.amount_cents)}</td></tr>"
        for m in s.movements
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Peerlend statement "
        f"{s.month}</title><style>td.n{{text-align:right}}</style></head><body>"
        f"<h1>Statement {s.month}</h1><p>Investor {html.escape(s.username)} (account {s.investor_id})</p>"
        f"<p>Opening cash: {format_cents(s.opening_cents)}</p>"
        "<table><thead><tr><th>When (UTC)</th><th>Kind</th><th>What</th><th>Amount</th></tr></thead>"
        f"<tbody>{rows}</tbody></table><p>Closing cash: {format_cents(s.closing_cents)}</p></body></html>"
    )


def as_pdf(s: Statement) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    y = height - 60
    pdf.setTitle(f"Peerlend statement {s.month}")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(50, y, f"Peerlend statement {s.month}: {s.username} (account {s.investor_id})")
    pdf.setFont("Helvetica", 9)
    y -= 24
    pdf.drawString(50, y, f"Opening cash {format_cents(s.opening_cents)}")
    for m in s.movements:
        y -= 14
        if y < 60:
            pdf.showPage()
            pdf.setFont("Helvetica", 9)
            y = height - 60
        pdf.drawString(50, y, f"{m.at:%Y-%m-%d}  {m.kind:<14} {m.description[:70]}")
        pdf.drawRightString(width - 50, y, format_cents(m.amount_cents))
    y -= 20
    pdf.drawString(50, y, f"Closing cash {format_cents(s.closing_cents)}")
    pdf.save()
    return buffer.getvalue()
