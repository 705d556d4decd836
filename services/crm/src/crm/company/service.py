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
