"""Receipt, payment and delivery numbers are legal numbers: consecutive, without gaps, however many are recorded at
once, and a refused one takes none."""

import threading
import uuid
from datetime import date

import pytest

from tests.support import erp_sales as t

pytestmark = pytest.mark.db


def _number(n: str) -> int:
    return int(n.rsplit("-", 1)[1])


def test_receipts_recorded_at_once_are_numbered_without_gaps_and_refused_ones_take_no_number(accountant, deliver):
    customer = t.customer(deliver)["id"]
    bank = accountant.post("/api/v1/bank-accounts", json={"name": f"Bank {t.tag()}"}).json
    app = accountant.application
    year = date.today().year
    first = accountant.post("/api/v1/payments", json={"direction": "in", "party_id": customer, "amount": "1.00",
                                                      "bank_account_id": bank["id"], "auto_allocate": False})
    assert first.status_code == 201, first.json
    start, numbers, refused = threading.Barrier(8), [], []

    def record(i):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = accountant.environ_base["HTTP_AUTHORIZATION"]
        body = {"direction": "in", "party_id": customer, "amount": "10.00", "bank_account_id": bank["id"],
                "auto_allocate": False}
        if i % 2:  # allocated to a document that is not there: refused after the checks of the payment itself
            body = {**body, "allocations": [{"document_id": str(uuid.uuid4()), "amount": "10.00"}]}
            body.pop("auto_allocate")
        start.wait()
        r = c.post("/api/v1/payments", json=body)
        (numbers if r.status_code == 201 else refused).append(r.json.get("number") or r.status_code)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(refused) == 4 and all(400 <= code < 500 for code in refused), refused
    after = accountant.post("/api/v1/payments", json={"direction": "in", "party_id": customer, "amount": "2.00",
                                                      "bank_account_id": bank["id"], "auto_allocate": False}).json
    taken = sorted(_number(n) for n in [first.json["number"], *numbers, after["number"]])
    assert taken == list(range(taken[0], taken[0] + 6)), taken  # consecutive: the refused four took nothing
    assert all(n.startswith(f"RC-{year}-") for n in numbers)


def test_deliveries_made_at_once_are_numbered_without_gaps(deliver, sessions, app, as_user, monkeypatch):
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    widget = t.product(sessions, price="5")
    t.stock_up(sessions, widget, wh["id"], 100)
    customer = t.customer(deliver)["id"]
    inbox = t.OrderInbox(sessions, app)
    clerk = as_user("warehouse_clerk")
    orders = []
    for _ in range(8):
        data = t.order_placed(customer, [{"product_id": widget, "quantity": "2", "unit_price": "5"}])
        assert inbox.place(data)[0] == "applied"
        (order,) = clerk.get("/api/v1/sales-orders", query_string={"crm_order_id": data["order_id"]}).json["items"]
        orders.append(clerk.get(f"/api/v1/sales-orders/{order['id']}").json)
    start, numbers, refused = threading.Barrier(8), [], []

    def ship(i):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = clerk.environ_base["HTTP_AUTHORIZATION"]
        line = orders[i]["lines"][0]
        quantity = "9" if i % 2 else "1"  # more than the order holds: refused
        start.wait()
        r = c.post(f"/api/v1/sales-orders/{orders[i]['id']}/deliveries",
                   json={"lines": [{"line_id": line["id"], "quantity": quantity}]})
        (numbers if r.status_code == 201 else refused).append(r.json.get("number") or r.status_code)

    threads = [threading.Thread(target=ship, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert refused == [422] * 4 and len(numbers) == 4
    last = clerk.post(f"/api/v1/sales-orders/{orders[1]['id']}/deliveries", json={}).json["number"]
    taken = sorted(_number(n) for n in [*numbers, last])
    assert taken == list(range(taken[0], taken[0] + 5)), taken
    assert all(n.startswith(f"DL-{date.today().year}-") for n in numbers)
