"""Every change to an existing ERP record needs If-Match, or is listed here with the reason it does not."""

from servicekit.testing import if_match_documentation_gaps, if_match_gaps

# (method, rule) -> why it takes no If-Match (yet: the document actions below check the record's state
# themselves, so a repeated or concurrent one is refused with 409, never applied twice)
STATE_CHECKED = "an action on a document whose state it checks (a second one is a 409)"
NO_IF_MATCH = {
    ("DELETE", "/api/v1/me/tokens/<uuid:token_id>"): "revoking is idempotent and final",
    ("DELETE", "/api/v1/roles/<string:name>"): "deleting a role is final and checked against its holders",
    ("DELETE", "/api/v1/accounts/<uuid:account_id>"): "only an unused account can go (409 otherwise)",
    ("PATCH", "/api/v1/ledger/account-mapping"): "sets role -> account pairs, a whole-value replacement",
    ("DELETE", "/api/v1/stock/reservations/<uuid:reservation_id>"): "releasing is idempotent",
    ("POST", "/api/v1/warehouses/<uuid:warehouse_id>/locations"): "creates a location, a record of its own",
    ("POST", "/api/v1/inventory-counts/<uuid:count_id>/lines"): "records a counted line, a record of its own",
    ("POST", "/api/v1/purchase-orders/<uuid:po_id>/receipts"): "creates a goods receipt (Idempotency-Key)",
    ("POST", "/api/v1/sales-orders/<uuid:order_id>/deliveries"): "creates a delivery (Idempotency-Key)",
    ("POST", "/api/v1/invoices/<uuid:invoice_id>/credit-notes"): "creates a credit note (Idempotency-Key)",
    ("POST", "/api/v1/sales-orders/<uuid:order_id>/invoice"): "creates the invoice (Idempotency-Key)",
    ("POST", "/api/v1/payments/<uuid:payment_id>/allocate"): "allocation is checked against open amounts",
    ("POST", "/api/v1/payments/<uuid:payment_id>/cheque"): STATE_CHECKED,
    ("POST", "/api/v1/inventory-counts/<uuid:count_id>/cancel"): STATE_CHECKED,
    ("POST", "/api/v1/inventory-counts/<uuid:count_id>/validate"): STATE_CHECKED,
    ("DELETE", "/api/v1/invoices/<uuid:invoice_id>"): "only a draft can go: " + STATE_CHECKED,
    ("POST", "/api/v1/invoices/<uuid:invoice_id>/issue"): STATE_CHECKED,
    ("DELETE", "/api/v1/journal-entries/<uuid:entry_id>"): "only a draft can go: " + STATE_CHECKED,
    ("POST", "/api/v1/journal-entries/<uuid:entry_id>/reverse"): STATE_CHECKED,
    ("POST", "/api/v1/sales-orders/<uuid:order_id>/cancel"): STATE_CHECKED,
    ("POST", "/api/v1/parties/<uuid:party_id>/statement/send"): "mails a statement of the account as it is now",
    ("POST", "/api/v1/parties/<uuid:party_id>/dunning-letter/send"): "mails what is overdue now; the level climbs "
                                                                    "by itself, never twice for one letter",
    ("POST", "/api/v1/banking/accounts/<uuid:account_id>/movements"): "records a movement (Idempotency-Key)",
    ("POST", "/api/v1/banking/accounts/<uuid:account_id>/statements"): "imports a file; a line already "
                                                                       "imported is never imported again",
    ("POST", "/api/v1/banking/statement-lines/<uuid:line_id>/reconcile"): "creates a reconciliation "
                                                                          "(Idempotency-Key); a second is a 409",
    ("POST", "/api/v1/banking/accounts/<uuid:account_id>/auto-reconcile"): "reconciles only lines still "
                                                                           "unreconciled, each once",
    ("PUT", "/api/v1/banking/accounts/<uuid:account_id>/csv-mapping"): "sets the whole mapping, a whole-value "
                                                                       "replacement",
    ("PUT", "/api/v1/products/<uuid:product_id>/supply"): "sets how a product is obtained as a whole, a whole-value "
                                                          "replacement",
}


def test_every_change_requires_if_match_or_says_why_not(app):
    unexplained, stale = if_match_gaps(app, NO_IF_MATCH, OPTIONAL_IF_MATCH)
    assert not unexplained, f"changes that do not require If-Match and give no reason: {unexplained}"
    assert not stale, f"listed with a reason that no longer applies: {stale}"


def test_the_document_declares_if_match_wherever_the_api_answers_428(app, client):
    assert if_match_documentation_gaps(app, client.get("/openapi.json").json) == []

# (method, rule) -> why If-Match is accepted (and checked when sent) but not required
OPTIONAL_IF_MATCH = {
    **{("POST", f"/api/v1/purchase-orders/<uuid:po_id>/{action}"): STATE_CHECKED for action in ("send", "cancel")},
    **{("POST", f"/api/v1/supplier-bills/<uuid:bill_id>/{action}"): STATE_CHECKED for action in ("approve",
                                                                                               "reject")},
    ("POST", "/api/v1/journal-entries/<uuid:entry_id>/post"): STATE_CHECKED,
    ("POST", "/api/v1/invoices/<uuid:invoice_id>/send"): "mailing changes no term of the invoice: it is refused for "
                                                         "a draft, and sending twice is sending twice",
}
