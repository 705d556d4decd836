"""Who the seller is on the CRM's documents: the ERP's company settings (replicated from erp.company.v1), else the
CRM_QUOTE_SELLER setting until an administrator has set them in the ERP."""

from servicekit.pdf import address_lines
from sqlalchemy.orm import Session

from .models import CompanyReplica


def seller_lines(session: Session, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """The seller block, first line the legal name: from the ERP's company settings when they name the company."""
    row = session.get(CompanyReplica, 1)
    if row is None or not row.legal_name:
        return fallback
    s = row.state
    contact = " · ".join(x for x in (s.get("email"), s.get("phone"), s.get("website")) if x)
    return tuple(x for x in (row.legal_name, *address_lines(s.get("address")),
                             f"VAT number: {s['vat_id']}" if s.get("vat_id") else None,
                             s.get("registration"), contact) if x)


def company_copy(session: Session, fallback: tuple[str, ...]) -> dict:
    """What the CRM knows of the company: the replica, or the setting it falls back on."""
    row = session.get(CompanyReplica, 1)
    lines = seller_lines(session, fallback)
    if row is None or not row.legal_name:
        return {"source": "setting", "seller_lines": list(lines), "legal_name": lines[0] if lines else None,
                "vat_id": None, "address": None, "version": None, "erp_updated_at": None}
    return {"source": "erp", "seller_lines": list(lines), "legal_name": row.legal_name,
            "vat_id": row.state.get("vat_id"), "address": row.state.get("address"), "version": row.sequence,
            "erp_updated_at": row.erp_updated_at}
