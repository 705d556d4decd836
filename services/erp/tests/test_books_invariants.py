"""The books stay true whatever accountants do at once: a hypothesis state machine drives invoices, credit notes,
receipts (some refused), cheques that bounce, stock receipts and deliveries and period locks through the API, each
step a burst of up to 8 concurrent clients, and checks after every step that every entry balances, the trial
balance is zero, invoice and receipt numbers are gapless and unique, stock never goes negative, and (every few
steps) that posted entries cannot be changed and the hash chain verifies. BOOKS_STEPS sets the number of steps
(about 2,000 in `make test`, more in `make fuzz`).
"""

import os
import threading
import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from erp.ledger import hashchain
from erp.ledger.models import JournalLine
from erp.ledger.reports import trial_balance
from erp.stock.models import StockQuant
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

STEPS = int(os.environ.get("BOOKS_STEPS", "2000"))
STEPS_PER_RUN = 50
CLIENTS = 8
money = st.decimals(min_value=D("0.01"), max_value=D("4000"), places=2)
TAX = st.sampled_from(["0", "0.055", "0.2"])


def burst(client_for, calls):
    """Run the (method, path, body) calls at once, one client each (up to CLIENTS); their answers, in order."""
    answers = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def one(i, method, path, body):
        c = client_for()
        start.wait()
        answers[i] = getattr(c, method)(path, json=body)

    threads = [threading.Thread(target=one, args=(i, *call)) for i, call in enumerate(calls)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return answers


class Books(RuleBasedStateMachine):
    ctx: dict = {}

    @initialize()
    def setup(self):
        ctx = self.ctx
        self.client_for, self.sessions = ctx["client_for"], ctx["sessions"]
        self.customers, self.bank, self.warehouse = ctx["customers"], ctx["bank"], ctx["warehouse"]
        self.products, self.series = ctx["products"], ctx["series"]
        self.invoices: list[dict] = []
        self.cheques: list[dict] = []
        self.steps = 0

    # -- what accountants and warehouse clerks do ---------------------------------------------------------------

    @rule(amounts=st.lists(money, min_size=1, max_size=CLIENTS), tax=TAX, data=st.data())
    def issue_invoices(self, amounts, tax, data):
        self.ctx["counts"]["issue_invoices"] += 1
        calls = [("post", "/api/v1/invoices", {
            "party_id": data.draw(st.sampled_from(self.customers)), "issue": True,
            "series": data.draw(st.sampled_from(self.series)),
            "lines": [{"description": "Work", "quantity": str(data.draw(st.integers(1, 5))), "unit_price": str(a),
                       "tax_rate": tax}]}) for a in amounts]
        for r in burst(self.client_for, calls):
            assert r.status_code == 201, r.json
            self.invoices.append(r.json)

    @rule(amounts=st.lists(money, min_size=1, max_size=CLIENTS), refused=st.lists(st.booleans(), max_size=CLIENTS),
          data=st.data())
    def receive_payments(self, amounts, refused, data):
        self.ctx["counts"]["receive_payments"] += 1
        calls = []
        for i, a in enumerate(amounts):
            body = {"direction": "in", "party_id": data.draw(st.sampled_from(self.customers)), "amount": str(a),
                    "bank_account_id": self.bank["id"]}
            if i < len(refused) and refused[i]:  # a document that is not there: the payment is refused
                body["allocations"] = [{"document_id": str(uuid.uuid4()), "amount": str(a)}]
            calls.append(("post", "/api/v1/payments", body))
        for (_, _, body), r in zip(calls, burst(self.client_for, calls), strict=True):
            assert r.status_code == (422 if "allocations" in body else 201), r.json

    @rule(data=st.data())
    def credit_part_of_an_invoice(self, data):
        self.ctx["counts"]["credit_part_of_an_invoice"] += 1
        issued = [i for i in self.invoices if i["status"] in ("issued", "partially_paid", "paid", "overdue")]
        if not issued:
            return
        inv = data.draw(st.sampled_from(issued))
        line = inv["lines"][0]
        r = self.client_for().post(f"/api/v1/invoices/{inv['id']}/credit-notes", json={
            "reason": "Returned", "lines": [{"invoice_line_id": line["id"], "quantity": "1"}]})
        assert r.status_code in (201, 409, 422), r.json  # 409/422: nothing left to credit
        inv["status"] = "credited"

    @rule(amount=money, bounce=st.booleans(), data=st.data())
    def cheque(self, amount, bounce, data):
        self.ctx["counts"]["cheque"] += 1
        c = self.client_for()
        p = c.post("/api/v1/payments", json={"direction": "in", "party_id": data.draw(st.sampled_from(self.customers)),
                                             "amount": str(amount), "bank_account_id": self.bank["id"],
                                             "method": "cheque", "cheque_number": uuid.uuid4().hex[:8]})
        assert p.status_code == 201, p.json
        assert c.post(f"/api/v1/payments/{p.json['id']}/cheque", json={"status": "deposited"}).status_code == 200
        after = {"status": "bounced", "reason": "insufficient funds"} if bounce else {"status": "cleared"}
        r = c.post(f"/api/v1/payments/{p.json['id']}/cheque", json=after)
        assert r.status_code == 200, r.json

    @rule(moves=st.lists(st.tuples(st.booleans(), st.integers(1, 20),
                                   st.decimals(min_value=D("0.01"), max_value=D("99"), places=4)),
                         min_size=1, max_size=CLIENTS), data=st.data())
    def move_stock(self, moves, data):
        self.ctx["counts"]["move_stock"] += 1
        calls = []
        for incoming, qty, cost in moves:
            product = data.draw(st.sampled_from(self.products))
            body = {"kind": "receipt" if incoming else "delivery", "product_id": product, "quantity": str(qty),
                    "warehouse_id": self.warehouse["id"]}
            if incoming:
                body["unit_cost"] = str(cost)
            calls.append(("post", "/api/v1/stock/moves", body))
        for (_, _, body), r in zip(calls, burst(self.client_for, calls), strict=True):
            if body["kind"] == "receipt":
                assert r.status_code == 201, r.json
            else:  # a delivery of more than is there is refused (no backorders on these products)
                assert r.status_code in (201, 409, 422), r.json

    @precondition(lambda self: self.steps % 20 == 19)  # now and then: the lock moves the period for every test
    @rule()
    def a_closed_period_refuses_postings(self):
        self.ctx["counts"]["a_closed_period_refuses_postings"] += 1
        c = self.client_for()
        locked_to = date.today() - timedelta(days=30)
        r = c.post("/api/v1/ledger/lock", json={"lock_date": locked_to.isoformat()})
        assert r.status_code in (200, 409), r.json
        accounts = self.ctx["accounts"]
        back = c.post("/api/v1/journal-entries", json={
            "entry_date": (locked_to - timedelta(days=1)).isoformat(), "reference": "Back-dated", "lines": [
                {"account": accounts[0], "debit": "1.00"}, {"account": accounts[1], "credit": "1.00"}]})
        if back.status_code == 201:
            posted = c.post(f"/api/v1/journal-entries/{back.json['id']}/post")
            assert posted.status_code == 409 and posted.json["type"].endswith("/period-closed"), posted.json
        else:
            assert back.status_code == 409, back.json

    # -- what must always hold ------------------------------------------------------------------------------------

    @invariant()
    def every_entry_balances_and_so_does_the_trial_balance(self):
        if not hasattr(self, "sessions"):
            return
        self.steps += 1
        with self.sessions.begin() as s:
            unbalanced = s.execute(select(JournalLine.entry_id).group_by(JournalLine.entry_id)
                                   .having(func.sum(JournalLine.debit) != func.sum(JournalLine.credit))).all()
            assert unbalanced == []
            assert trial_balance(s, date.today() + timedelta(days=3650))["balanced"]

    @invariant()
    def invoice_and_receipt_numbers_are_gapless_and_unique(self):
        if not hasattr(self, "sessions"):
            return
        year = date.today().year
        with self.sessions.begin() as s:
            for series in self.series:
                numbers = s.execute(text("SELECT sequence_number FROM invoices WHERE series = :s AND fiscal_year = :y "
                                         "AND number IS NOT NULL ORDER BY 1"), {"s": series, "y": year}).scalars().all()
                assert numbers == list(range(1, len(numbers) + 1)), (series, numbers[-5:])
            receipts = s.execute(text("SELECT split_part(number, '-', 3)::int FROM payments WHERE direction = 'in' "
                                      "AND number LIKE :p ORDER BY 1"), {"p": f"RC-{year}-%"}).scalars().all()
            assert receipts == list(range(1, len(receipts) + 1)), receipts[-5:]

    @invariant()
    def stock_is_never_negative(self):
        if not hasattr(self, "sessions"):
            return
        with self.sessions.begin() as s:
            negative = s.execute(select(func.count()).select_from(StockQuant).where(
                StockQuant.product_id.in_(self.products), StockQuant.on_hand < 0)).scalar_one()
        assert negative == 0

    @invariant()
    def stock_valuation_equals_the_stock_account(self):
        """What the valuation layers say the goods are worth is what the stock account holds for their moves."""
        if not hasattr(self, "sessions"):
            return
        with self.sessions.begin() as s:
            per_product = s.execute(text("SELECT sum(value) FROM stock_valuation_layers "
                                         "WHERE product_id = ANY(CAST(:p AS uuid[])) GROUP BY product_id"),
                                    {"p": self.products}).scalars().all()
            layers = sum((v.quantize(D("0.01"), rounding=ROUND_HALF_UP) for v in per_product), D("0"))
            booked = s.execute(text("""
                SELECT coalesce(sum(l.debit - l.credit), 0) FROM journal_lines l
                JOIN journal_entries e ON e.id = l.entry_id
                JOIN ledger_account_mapping m ON m.account_id = l.account_id AND m.role = 'stock'
                JOIN stock_moves mv ON e.source_type = 'stock_move' AND e.source_id = mv.id::text
                WHERE mv.product_id = ANY(CAST(:p AS uuid[]))"""), {"p": self.products}).scalar_one()
        assert booked == layers, (booked, layers)  # each product's value, in cents

    @invariant()
    def posted_entries_are_sealed_and_immutable(self):
        if not hasattr(self, "sessions") or self.steps % 25:
            return
        with self.sessions.begin() as s:
            assert hashchain.verify(s).ok
            line_id = s.execute(select(func.max(JournalLine.id))).scalar_one()
        if line_id is None:
            return  # nothing posted yet
        with pytest.raises(DBAPIError), self.sessions.begin() as s:
            s.execute(text("UPDATE journal_lines SET description = 'changed' WHERE id = :i"), {"i": line_id})


@pytest.fixture
def books_context(app, as_user, deliver, sessions):
    accountant = as_user("accountant", "warehouse_clerk")
    admin = as_user("admin")
    header = accountant.environ_base["HTTP_AUTHORIZATION"]

    def client_for():
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = header
        return c

    bank = accountant.post("/api/v1/bank-accounts", json={"name": f"Books {t.tag()}"}).json
    warehouse = accountant.post("/api/v1/warehouses", json={"code": f"B{t.tag()}", "name": "Books"}).json
    products = []
    for _ in range(2):
        p = admin.post("/api/v1/products", json={"sku": f"BK-{t.tag()}", "name": "Counted widget",
                                                 "sale_price": "10.00", "kind": "stockable"})
        assert p.status_code == 201, p.json
        products.append(p.json["id"])
    accounts = [a["code"] for a in accountant.get("/api/v1/accounts", query_string={"page_size": 200}).json["items"]
                if a["type"] in ("asset", "expense") and not a["party_required"]][:2]
    ctx = {"counts": Counter(), "client_for": client_for, "sessions": sessions, "bank": bank, "warehouse": warehouse,
           "customers": [t.customer(deliver)["id"] for _ in range(3)], "products": products, "accounts": accounts,
           "series": ["H" + uuid.uuid4().hex[:6].upper(), "K" + uuid.uuid4().hex[:6].upper()]}
    yield ctx
    admin.post("/api/v1/ledger/lock", json={"lock_date": "2000-01-01"})  # the other tests post in the past


def test_the_books_stay_true_under_concurrent_accounting(books_context):
    Books.ctx = books_context
    # every run takes its full STEPS_PER_RUN steps (_min_steps), so the count of steps is what BOOKS_STEPS says;
    # the choices are random (no example database): a failure prints the steps that led to it
    run_state_machine_as_test(Books, _min_steps=STEPS_PER_RUN - 1, settings=settings(
        max_examples=max(1, STEPS // STEPS_PER_RUN), stateful_step_count=STEPS_PER_RUN, deadline=None,
        database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    counted = Counter()
    with books_context["sessions"].begin() as s:
        counted["entries"] = s.execute(text("SELECT count(*) FROM journal_entries")).scalar_one()
    ran = books_context["counts"]
    print(f"\n[books] {sum(ran.values())} steps ({dict(ran)}) of up to {CLIENTS} concurrent clients; "
          f"{counted['entries']} journal entries in the books")
    assert sum(ran.values()) >= STEPS * 0.8, ran
