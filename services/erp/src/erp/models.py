"""Imports every model module so the metadata knows all ERP tables (for Alembic)."""

from .banking import models as banking_models  # noqa: F401
from .catalog.models import Category, PriceList, PriceListItem, Product  # noqa: F401
from .cheques import models as cheque_models  # noqa: F401
from .company import models as company_models  # noqa: F401
from .credit import models as credit_models  # noqa: F401
from .db import audit_log, auth, idempotency_keys, outbox, processed_events  # noqa: F401
from .fulfilment import models as fulfilment_models  # noqa: F401
from .ledger import models as ledger_models  # noqa: F401
from .parties.models import PartyAccount, PartyReplica, PartyReplicaChange  # noqa: F401
from .payments import models as quote_to_cash_models  # noqa: F401 - sales orders, invoices, payments
from .purchasing import models as purchasing_models  # noqa: F401
from .stock import models as stock_models  # noqa: F401
from .warranty import models as warranty_models  # noqa: F401
