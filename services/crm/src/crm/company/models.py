"""company_replica: the ERP's company settings (erp.company.v1) as last announced, one row."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class CompanyReplica(Base):
    __tablename__ = "company_replica"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    legal_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[dict] = mapped_column(JSONB)  # the event's state without the logo
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(20))
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
