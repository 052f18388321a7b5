"""What of a bureau file may leave the transactional database: coarse bands, never the attributes."""

from __future__ import annotations

from decimal import Decimal

from models.application import BureauFile

UNKNOWN = "unknown"


def utilization_band(value: Decimal | None) -> str:
    if value is None:
        return UNKNOWN
    for ceiling, label in ((Decimal(30), "under 30%"), (Decimal(60), "30-60%"), (Decimal(90), "60-90%")):
        if value < ceiling:
            return label
    return "90%+"


def count_band(value: int | None, edges: tuple[int, ...]) -> str:
    """0, then one band per edge ("1-2"), then the last edge and above ("3+")."""
    if value is None:
        return UNKNOWN
    if value == 0:
        return "0"
    low = 1
    for edge in edges:
        if value <= edge:
            return f"{low}-{edge}" if edge > low else str(edge)
        low = edge + 1
    return f"{low}+"


def bands(file: BureauFile) -> dict[str, str]:
    return {
        "utilization_band": utilization_band(file.revol_util),
        "inquiries_6m_band": count_band(file.inq_last_6mths, (2,)),
        "delinquencies_2y_band": count_band(file.delinq_2yrs, (1,)),
    }
