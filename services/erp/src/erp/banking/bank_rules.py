"""Use cases of the user's reconciliation rules: text contains / counterparty / IBAN / amount range -> account
(and party, and a tax rate whose tax is split off to a tax account), for the lines no document explains (fees,
rent, subscriptions)."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, field_error
from shared_events.actors import actor_label
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import audit_log
from ..money import cents, four_places
from .accounts import checked_iban, resolve_one, usable_account
from .models import BankRule

FIELDS = ("name", "bank_account_id", "text_contains", "counterparty_contains", "counterparty_iban", "direction",
          "amount_min", "amount_max", "account", "party_id", "active", "tax_rate", "tax_account")


def _checked(session: Session, values: dict) -> dict:
    if values.get("bank_account_id"):
        values["bank_account_id"] = usable_account(session, values["bank_account_id"], "bank_account_id").id
    if values.get("account"):
        resolve_one(session, values["account"].strip(), "account")
        values["account"] = values["account"].strip()
    if values.get("tax_account"):
        resolve_one(session, values["tax_account"].strip(), "tax_account")
        values["tax_account"] = values["tax_account"].strip()
    if "counterparty_iban" in values:
        values["counterparty_iban"] = checked_iban(values["counterparty_iban"], "counterparty_iban")
    if values.get("tax_rate") is not None:
        values["tax_rate"] = four_places(values["tax_rate"])
    for key in ("amount_min", "amount_max"):
        if values.get(key) is not None:
            values[key] = cents(values[key])
    for key in ("bank_account_id", "party_id"):
        if values.get(key) is not None:
            values[key] = str(values[key])
    return values


def _check_rule(rule: BankRule) -> None:
    if not (rule.text_contains or rule.counterparty_contains or rule.counterparty_iban):
        raise field_error("text_contains", "a rule needs something to recognise a line by: text_contains, "
                          "counterparty_contains or counterparty_iban")
    if rule.amount_min is not None and rule.amount_max is not None and rule.amount_min > rule.amount_max:
        raise field_error("amount_max", "below amount_min")
    if rule.tax_account and not rule.tax_rate:
        raise field_error("tax_account", "a tax account needs a tax_rate")


def create_rule(session: Session, data: dict, actor) -> dict:
    values = _checked(session, {k: data.get(k) for k in FIELDS if k in data})
    rule = BankRule(**values, created_by=actor_label(actor), version=1, created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC))
    rule.active = values.get("active", True)
    _check_rule(rule)
    session.add(rule)
    session.flush()
    audit.record(session, audit_log, actor, "create", "bank_rule", rule.id, None,
                 {k: getattr(rule, k) for k in FIELDS})
    return row_view(rule)


def update_rule(session: Session, rule_id, expected_version: int, changes: dict, actor) -> dict:
    rule = session.execute(select(BankRule).where(BankRule.id == str(rule_id)).with_for_update()).scalar_one_or_none()
    if rule is None:
        raise NotFound("bank rule", rule_id)
    check_version(rule.version, expected_version)
    before = {k: getattr(rule, k) for k in FIELDS}
    for key, value in _checked(session, dict(changes)).items():
        setattr(rule, key, value)
    _check_rule(rule)
    rule.version, rule.updated_at = rule.version + 1, datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "bank_rule", rule.id, before,
                 {k: getattr(rule, k) for k in FIELDS})
    return row_view(rule)


def list_rules(session: Session) -> list[dict]:
    return [row_view(r) for r in session.execute(select(BankRule).order_by(BankRule.created_at)).scalars()]
