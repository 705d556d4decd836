"""company_settings: one row (id 1) with who the company is, as every document prints it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class CompanySettings(Base):
    __tablename__ = "company_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    trade_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    vat_id: Mapped[str | None] = mapped_column(String(30))
    registration: Mapped[str | None] = mapped_column(String(100))  # e.g. "RCS Paris 123 456 789", "HRB 12345"
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(200))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)  # PNG or JPEG, 256 KB at most
    logo_type: Mapped[str | None] = mapped_column(String(20))
    bank_accounts: Mapped[list] = mapped_column(JSONB, default=list)  # [{bank_name, iban, bic, currency}]
    payment_terms_text: Mapped[str | None] = mapped_column(Text)
    document_footer: Mapped[str | None] = mapped_column(Text)
    dunning_texts: Mapped[dict] = mapped_column(JSONB, default=dict)  # {"1": ..., "2": ..., "3": ...}
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
