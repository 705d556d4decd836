"""Warranties: terms on products; entitlements created when an invoice is issued (terms snapshotted), shortened
or voided by credit notes, published on erp.warranty.v1."""
