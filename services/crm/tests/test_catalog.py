"""A sales rep quotes from the ERP's catalog: the CRM's copy follows the ERP's events and refuses to be edited."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.catalog.handlers import CONSUMER, HANDLERS, TOPICS
from crm.config import Settings
from crm.db import processed_events
from crm.replay import rebuild
from kafka.structs import TopicPartition
from shared_events import envelope, kafka_clients
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer

pytestmark = pytest.mark.db

ERP = "http://127.0.0.1:8020"
PRODUCTS = "/api/v1/catalog/products"


def tag() -> str:
    return uuid.uuid4().hex[:8]


def stamp(minutes: int = 0) -> str:
    return (datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


# -- the ERP's state shapes (as services/erp/src/erp/catalog/events.py and stock/events.py build them) -------------

def category_state(name, parent=None, **over):
    state = {"id": str(uuid.uuid4()), "name": name, "parent_id": parent["id"] if parent else None,
             "path": f"{parent['path']} / {name}" if parent else name, "active": True, "version": 1,
             "updated_at": stamp()}
    return {**state, **over}


def product_state(name, category=None, **over):
    state = {"id": str(uuid.uuid4()), "sku": f"SKU-{tag()}", "name": name, "description": None,
             "category_id": category["id"] if category else None, "category_path": category["path"] if category
             else None, "uom": "unit", "kind": "stockable", "currency": "EUR", "sale_price": "100", "tax_rate": "0.2",
             "warranty_months": 0, "allow_backorder": False, "active": True, "version": 1, "updated_at": stamp()}
    return {**state, **over}


def stock_state(product, version, *warehouses):
    """warehouses: (code, on_hand, reserved) triples."""
    rows = [{"warehouse_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, code)), "code": code, "name": f"Warehouse {code}",
             "on_hand": str(on_hand), "reserved": str(reserved), "available": str(on_hand - reserved)}
            for code, on_hand, reserved in warehouses]
    on_hand, reserved = sum(w[1] for w in warehouses), sum(w[2] for w in warehouses)
    return {"product_id": product["id"], "sku": product["sku"], "on_hand": str(on_hand), "reserved": str(reserved),
            "available": str(on_hand - reserved), "warehouses": rows, "version": version, "updated_at": stamp(version)}


def price_list_state(name, items, **over):
    """items: (product, min_quantity, price) triples."""
    state = {"id": str(uuid.uuid4()), "name": name, "currency": "EUR", "customer_group": None, "party_id": None,
             "valid_from": None, "valid_to": None, "active": True,
             "items": [{"product_id": p["id"], "min_quantity": str(q), "price": str(price)} for p, q, price in items],
             "version": 1, "updated_at": stamp()}
    return {**state, **over}


@pytest.fixture
def erp(db):
    """Publishes catalog events into the CRM's inbox the way the worker receives them (minus the broker)."""
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    offsets = iter(range(10**6))
    log = []  # every record delivered, as the topics would hold them

    def deliver(ev):
        topic, key, value, headers = envelope.to_kafka(ev)
        log.append(Record(topic, 0, next(offsets), key, value, headers))
        return inbox.handle_message(log[-1])

    def publish(type_, state, sequence=None):
        subject = state.get("id") or state["product_id"]
        ev = envelope.new_event(type_, subject, state, sequence or state["version"])
        deliver.last = ev
        return deliver(ev)

    def catalog(*categories_and_products):
        """Announce new categories and products, as the ERP does when they are created."""
        for state in categories_and_products:
            kind = "category" if "path" in state else "product"
            assert publish(f"erp.{kind}.created", state) == "applied"

    publish.deliver = deliver
    publish.catalog = catalog
    publish.log = log
    return publish


@pytest.fixture
def rep(as_user):
    return as_user("sales_rep")


@pytest.fixture
def laptops(erp):
    """Hardware / Laptops / Gaming, one product in each, and an unrelated product in Software."""
    t = tag()
    hardware = category_state(f"Hardware {t}")
    laptops = category_state("Laptops", hardware)
    gaming = category_state("Gaming", laptops)
    software = category_state(f"Software {t}")
    products = {
        "dock": product_state(f"USB-C Dock {t}", hardware, sku=f"DOCK-{t}", sale_price="89.9"),
        "ultra": product_state(f"Ultrabook 14 {t}", laptops, sku=f"UB14-{t}", sale_price="1200", warranty_months=24),
        "beast": product_state(f"Gaming Beast {t}", gaming, sku=f"GB17-{t}", sale_price="2400"),
        "office": product_state(f"Office Suite {t}", software, sku=f"OFF-{t}", kind="service", sale_price="15"),
    }
    erp.catalog(hardware, laptops, gaming, software, *products.values())
    return {"tag": t, "hardware": hardware, "laptops": laptops, "gaming": gaming, "software": software, **products}


def skus(response):
    assert response.status_code == 200, response.json
    return [p["sku"] for p in response.json["items"]]


# -- what a sales rep sees -------------------------------------------------------------------------------------

def test_a_rep_finds_a_product_with_its_price_category_warranty_and_stock(rep, erp, laptops):
    ultra = laptops["ultra"]
    assert erp("erp.stock.availability_changed", stock_state(ultra, 1, ("PAR", 10, 3), ("LYS", 5, 0))) == "applied"
    page = rep.get(PRODUCTS, query_string={"q": ultra["sku"]}).json
    assert (page["total"], page["page"], page["pages"]) == (1, 1, 1)
    (item,) = page["items"]
    assert item["id"] == ultra["id"] and item["name"] == ultra["name"]
    assert item["price"] == {"sale_price": "1200.0000", "currency": "EUR", "tax_rate": "0.2000"}
    assert item["category_id"] == laptops["laptops"]["id"]
    assert item["category_path"] == f"Hardware {laptops['tag']} / Laptops"
    assert item["warranty_months"] == 24 and item["kind"] == "stockable"
    availability = item["availability"]
    assert (availability["on_hand"], availability["reserved"], availability["available"]) == (
        "15.0000", "3.0000", "12.0000")
    assert [(w["code"], w["available"]) for w in availability["warehouses"]] == [("PAR", "7.0000"), ("LYS", "5.0000")]
    assert item["master_data"] == {"owner": "erp", "edit_url": f"{ERP}/api/v1/products/{ultra['id']}"}
    assert rep.get(f"{PRODUCTS}/{ultra['id']}").json == item


def test_search_by_sku_name_and_category_with_its_subcategories(rep, laptops):
    t = laptops["tag"]
    assert skus(rep.get(PRODUCTS, query_string={"q": f"ub14-{t}"})) == [f"UB14-{t}"]
    assert skus(rep.get(PRODUCTS, query_string={"q": f"gaming beast {t}"})) == [f"GB17-{t}"]
    by_category = {name: skus(rep.get(PRODUCTS, query_string={"category_id": laptops[name]["id"], "sort": "sku"}))
                   for name in ("hardware", "laptops", "gaming", "software")}
    assert by_category == {"hardware": [f"DOCK-{t}", f"GB17-{t}", f"UB14-{t}"], "laptops": [f"GB17-{t}", f"UB14-{t}"],
                           "gaming": [f"GB17-{t}"], "software": [f"OFF-{t}"]}
    assert skus(rep.get(PRODUCTS, query_string={"q": t, "kind": "service"})) == [f"OFF-{t}"]
    assert skus(rep.get(PRODUCTS, query_string={"q": t, "sort": "-sale_price"})) == [
        f"GB17-{t}", f"UB14-{t}", f"DOCK-{t}", f"OFF-{t}"]
    two = rep.get(PRODUCTS, query_string={"q": t, "page_size": 3, "page": 2}).json
    assert (two["total"], two["pages"], len(two["items"])) == (4, 2, 1)


def test_a_search_term_is_text_not_a_pattern(rep, erp):
    t = tag()
    erp.catalog(product_state(f"Cable 100% copper {t}"), product_state(f"Cable 1000 copper {t}"))
    r = rep.get(PRODUCTS, query_string={"q": "100% copper " + t})
    assert [p["name"] for p in r.json["items"]] == [f"Cable 100% copper {t}"]


def test_the_categories_come_flat_in_path_order_with_their_parents(rep, erp, laptops):
    retired = category_state("Netbooks", laptops["laptops"], active=False)
    erp.catalog(retired)
    t = laptops["tag"]
    mine = [c for c in rep.get("/api/v1/catalog/categories").json if t in c["path"]]
    assert [(c["path"], c["parent_id"]) for c in mine] == [
        (f"Hardware {t}", None), (f"Hardware {t} / Laptops", laptops["hardware"]["id"]),
        (f"Hardware {t} / Laptops / Gaming", laptops["laptops"]["id"]), (f"Software {t}", None)]
    everything = rep.get("/api/v1/catalog/categories", query_string={"include_inactive": "true"}).json
    assert retired["id"] in [c["id"] for c in everything]


def test_a_renamed_category_shows_on_its_products_before_they_are_announced_again(rep, erp, laptops):
    renamed = {**laptops["laptops"], "name": "Notebooks", "path": f"Hardware {laptops['tag']} / Notebooks",
               "version": 2, "updated_at": stamp(5)}
    assert erp("erp.category.updated", renamed) == "applied"
    item = rep.get(f"{PRODUCTS}/{laptops['ultra']['id']}").json
    assert item["category_path"] == f"Hardware {laptops['tag']} / Notebooks"


def test_a_product_announced_with_its_new_path_before_its_category_shows_the_new_path(rep, erp, laptops):
    """The ERP renames a category and re-announces its products in one transaction; the product's event may arrive
    first (another partition): the newer of the two paths shows, not the category replica's older one."""
    new_path = f"Hardware {laptops['tag']} / Portables"
    product = {**laptops["ultra"], "category_path": new_path, "version": laptops["ultra"]["version"] + 1,
               "updated_at": stamp(7)}
    assert erp("erp.product.updated", product) == "applied"
    assert rep.get(f"{PRODUCTS}/{laptops['ultra']['id']}").json["category_path"] == new_path
    renamed = {**laptops["laptops"], "name": "Portables", "path": new_path, "version": 2, "updated_at": stamp(6)}
    assert erp("erp.category.updated", renamed) == "applied"
    assert rep.get(f"{PRODUCTS}/{laptops['ultra']['id']}").json["category_path"] == new_path


# -- following the ERP: newer states win, late older ones are ignored ------------------------------------------

def test_a_newer_product_state_replaces_an_older_one_and_a_late_older_one_is_ignored(rep, erp):
    p = product_state(f"Monitor {tag()}", version=1)
    erp.catalog(p)
    v3 = {**p, "name": p["name"] + " 27in", "sale_price": "310", "version": 3, "updated_at": stamp(3)}
    v2 = {**p, "name": p["name"] + " (old)", "sale_price": "250", "version": 2, "updated_at": stamp(2)}
    assert erp("erp.product.updated", v3) == "applied"
    assert erp("erp.product.updated", v2) == "applied"  # processed once, but older: changes nothing
    item = rep.get(f"{PRODUCTS}/{p['id']}").json
    assert (item["name"], item["price"]["sale_price"], item["version"]) == (v3["name"], "310.0000", 3)
    assert erp.deliver(erp.deliver.last) == "duplicate"  # Kafka redelivers: applied once in effect


def test_stock_follows_its_own_sequence_independently_of_the_product(rep, erp):
    p = product_state(f"Keyboard {tag()}", version=7)
    assert erp("erp.stock.availability_changed", stock_state(p, 1, ("PAR", 4, 0))) == "applied"  # stock came first
    erp.catalog(p)
    assert erp("erp.stock.availability_changed", stock_state(p, 3, ("PAR", 9, 2))) == "applied"
    assert erp("erp.stock.availability_changed", stock_state(p, 2, ("PAR", 1, 1))) == "applied"  # late, ignored
    assert erp("erp.product.updated", {**p, "sale_price": "45", "version": 8}) == "applied"  # leaves stock alone
    item = rep.get(f"{PRODUCTS}/{p['id']}").json
    assert item["availability"]["available"] == "7.0000" and item["price"]["sale_price"] == "45.0000"
    assert item["availability"]["as_of"] == stamp(3)


def test_a_product_without_reported_stock_shows_none_available(rep, erp):
    p = product_state(f"Consulting day {tag()}", kind="service")
    erp.catalog(p)
    availability = rep.get(f"{PRODUCTS}/{p['id']}").json["availability"]
    assert availability == {"on_hand": "0.0000", "reserved": "0.0000", "available": "0.0000", "warehouses": [],
                            "as_of": None}


def test_deactivated_products_are_hidden_unless_asked_for(rep, erp):
    t = tag()
    kept, withdrawn = product_state(f"Mouse {t}"), product_state(f"Trackball {t}")
    erp.catalog(kept, withdrawn)
    erp("erp.product.updated", {**withdrawn, "active": False, "version": 2})
    assert [p["id"] for p in rep.get(PRODUCTS, query_string={"q": t}).json["items"]] == [kept["id"]]
    assert [p["id"] for p in rep.get(PRODUCTS, query_string={"q": t, "active": "false"}).json["items"]] == [
        withdrawn["id"]]
    assert rep.get(PRODUCTS, query_string={"q": t, "active": "all"}).json["total"] == 2
    assert rep.get(f"{PRODUCTS}/{withdrawn['id']}").json["active"] is False  # a quote may still name it


def test_available_only_and_sort_by_availability(rep, erp):
    t = tag()
    plenty, few, none, unknown = (product_state(f"{n} {t}") for n in ("Plenty", "Few", "None", "Unknown"))
    erp.catalog(plenty, few, none, unknown)
    erp("erp.stock.availability_changed", stock_state(plenty, 1, ("PAR", 50, 0), ("LYS", 20, 5)))
    erp("erp.stock.availability_changed", stock_state(few, 1, ("PAR", 3, 1)))
    erp("erp.stock.availability_changed", stock_state(none, 1, ("PAR", 2, 2)))
    r = rep.get(PRODUCTS, query_string={"q": t, "available_only": "true", "sort": "-available"})
    assert [p["id"] for p in r.json["items"]] == [plenty["id"], few["id"]]
    r = rep.get(PRODUCTS, query_string={"q": t, "sort": "available,name"})
    assert [p["id"] for p in r.json["items"]] == [none["id"], unknown["id"], few["id"], plenty["id"]]


def test_unknown_products_categories_and_sort_keys_are_clear_errors(rep):
    r = rep.get(f"{PRODUCTS}/{uuid.uuid4()}")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    r = rep.get(PRODUCTS, query_string={"category_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "category_id"
    r = rep.get(PRODUCTS, query_string={"sort": "cost"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "sort"


def test_an_event_breaking_the_contract_is_dead_lettered_and_changes_nothing(rep, erp, laptops):
    bad = envelope.new_event("erp.product.updated", laptops["dock"]["id"], {**laptops["dock"], "version": 2}, 2)
    bad.get_data()["sale_price"] = "cheap"
    assert erp.deliver(bad) == "dead_lettered"
    assert rep.get(f"{PRODUCTS}/{laptops['dock']['id']}").json["price"]["sale_price"] == "89.9000"


# -- prices for a quote ---------------------------------------------------------------------------------------

def price(client, product, **query):
    r = client.get(f"{PRODUCTS}/{product['id']}/price", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_the_quote_price_follows_quantity_breaks_and_the_customers_own_list(rep, erp):
    p = product_state(f"Docking station {tag()}", sale_price="100", tax_rate="0.2")
    acme, globex = str(uuid.uuid4()), str(uuid.uuid4())
    erp.catalog(p)
    general = price_list_state("Volume", [(p, 1, 95), (p, 10, 90), (p, 50, 80)])
    acme_list = price_list_state("Acme contract", [(p, 1, 85), (p, 100, 70)], party_id=acme)
    resellers = price_list_state("Resellers", [(p, 1, 75)], customer_group="resellers")
    dollars = price_list_state("US", [(p, 1, 1)], currency="USD", party_id=globex)
    off = price_list_state("Withdrawn", [(p, 1, 2)], active=False)
    later = price_list_state("Next year", [(p, 1, 3)], valid_from=(date.today() + timedelta(days=30)).isoformat())
    for pl in (general, acme_list, resellers, dollars, off, later):
        assert erp("erp.pricelist.created", pl) == "applied"

    assert price(rep, p) | {"date": None} == {
        "product_id": p["id"], "quantity": "1", "date": None, "currency": "EUR", "unit_price": "95.0000",
        "tax_rate": "0.2000", "source": "general", "price_list_id": general["id"], "price_list_name": "Volume",
        "party_id": None, "customer_group": None}
    assert price(rep, p, quantity="9.5")["unit_price"] == "95.0000"
    assert price(rep, p, quantity=10)["unit_price"] == "90.0000"
    assert price(rep, p, quantity=60)["unit_price"] == "80.0000"
    assert price(rep, p, quantity=0.5)["source"] == "base"
    own = price(rep, p, party_id=acme)
    assert (own["unit_price"], own["source"], own["price_list_name"]) == ("85.0000", "customer", "Acme contract")
    assert price(rep, p, party_id=acme, quantity=60)["unit_price"] == "85.0000"  # own list beats a cheaper general
    assert price(rep, p, party_id=acme, quantity=100)["unit_price"] == "70.0000"
    assert price(rep, p, party_id=globex)["source"] == "general"  # a list in another currency does not apply
    assert price(rep, p, party_id=globex, customer_group="resellers")["unit_price"] == "75.0000"
    assert price(rep, p, party_id=acme, customer_group="resellers")["source"] == "customer"
    assert price(rep, p, date=(date.today() + timedelta(days=30)).isoformat())["unit_price"] == "3.0000"


def test_a_changed_price_list_replaces_its_items_and_a_late_older_version_is_ignored(rep, erp):
    p, q = product_state(f"Headset {tag()}"), product_state(f"Webcam {tag()}")
    erp.catalog(p, q)
    promo = price_list_state("Promo", [(p, 1, 60)])
    erp("erp.pricelist.created", promo)
    v3 = {**promo, "items": [{"product_id": q["id"], "min_quantity": "1", "price": "40"}], "version": 3}
    v2 = {**promo, "items": [{"product_id": p["id"], "min_quantity": "1", "price": "55"}], "version": 2}
    erp("erp.pricelist.updated", v3)
    erp("erp.pricelist.updated", v2)
    assert price(rep, p)["source"] == "base"
    assert (price(rep, q)["unit_price"], price(rep, q)["price_list_id"]) == ("40.0000", promo["id"])
    expired = {**v3, "valid_to": (date.today() - timedelta(days=1)).isoformat(), "version": 4}
    erp("erp.pricelist.updated", expired)
    assert price(rep, q)["source"] == "base"
    assert price(rep, q, date=(date.today() - timedelta(days=2)).isoformat())["unit_price"] == "40.0000"


def test_a_price_needs_a_known_product_and_a_positive_quantity(rep, laptops):
    assert rep.get(f"{PRODUCTS}/{uuid.uuid4()}/price").status_code == 404
    r = rep.get(f"{PRODUCTS}/{laptops['dock']['id']}/price", query_string={"quantity": 0})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "quantity"


# -- the ERP owns the catalog ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, erp_method, erp_path", [
    ("patch", "/products/{product}", "PATCH", "/api/v1/products/{product}"),
    ("put", "/products/{product}", "PATCH", "/api/v1/products/{product}"),
    ("delete", "/products/{product}", "PATCH", "/api/v1/products/{product}"),
    ("post", "/products", "POST", "/api/v1/products"),
    ("post", "/categories", "POST", "/api/v1/categories"),
    ("patch", "/categories/{category}", "PATCH", "/api/v1/categories/{category}"),
    ("put", "/products/{product}/price", "PATCH", "/api/v1/price-lists/<price_list_id>"),
])
def test_a_change_to_the_catalog_is_refused_and_points_at_the_erp(rep, laptops, method, path, erp_method, erp_path):
    ids = {"product": laptops["ultra"]["id"], "category": laptops["laptops"]["id"]}
    r = getattr(rep, method)("/api/v1/catalog" + path.format(**ids), json={"sale_price": "1"})
    assert r.status_code == 405 and r.content_type == "application/problem+json"
    assert r.json["title"] == "The catalog is owned by the ERP" and r.json["owner"] == "erp"
    url = ERP + erp_path.format(**ids)
    assert r.json["change_in_erp"] == {"method": erp_method, "url": url}
    assert f"{erp_method} {url}" in r.json["detail"]
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert rep.get(f"{PRODUCTS}/{laptops['ultra']['id']}").json["price"]["sale_price"] == "1200.0000"


def test_deleting_a_product_says_how_to_withdraw_it(rep, laptops):
    r = rep.delete(f"{PRODUCTS}/{laptops['dock']['id']}")
    assert r.status_code == 405 and '"active": false' in r.json["detail"]


def test_an_unknown_catalog_path_is_not_found(rep):
    r = rep.get("/api/v1/catalog/warehouses")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


@pytest.mark.parametrize("method, path", [
    ("get", PRODUCTS), ("get", "/api/v1/catalog/categories"), ("get", f"{PRODUCTS}/{uuid.uuid4()}/price"),
    ("patch", f"{PRODUCTS}/{uuid.uuid4()}"), ("post", PRODUCTS), ("delete", "/api/v1/catalog/categories/x"),
])
def test_the_catalog_needs_a_signed_in_user(anonymous, method, path):
    r = getattr(anonymous, method)(path)
    assert r.status_code == 401 and r.content_type == "application/problem+json"


def test_every_crm_role_can_read_the_catalog_and_no_role_means_no_catalog(as_user):
    for role in ("sales_manager", "sales_rep", "support_agent", "marketing"):
        assert as_user(role).get(PRODUCTS).status_code == 200
    r = as_user().get(PRODUCTS)
    assert r.status_code == 403 and r.json["missing_permission"] == "catalog:read"


# -- replay -----------------------------------------------------------------------------------------------------

class TopicReader:
    """Reads recorded records back like kafka-python's consumer with assigned partitions (the database side of a
    rebuild; tests/integration replays from the real broker)."""

    def __init__(self, records):
        self.log = {}
        for r in records:
            tp = TopicPartition(r.topic, 0)
            self.log.setdefault(tp, []).append(Record(r.topic, 0, len(self.log.get(tp, [])), r.key, r.value,
                                                      r.headers))
        self.positions = {}

    def partitions_for_topic(self, topic):
        return {0}

    def assign(self, partitions):
        self.positions = dict.fromkeys(partitions, 0)

    def seek_to_beginning(self, *partitions):
        for tp in partitions:
            self.positions[tp] = 0

    def end_offsets(self, partitions):
        return {tp: len(self.log.get(tp, [])) for tp in partitions}

    def position(self, tp):
        return self.positions[tp]

    def poll(self, timeout_ms=0):
        batch = {}
        for tp, at in self.positions.items():
            records = self.log.get(tp, [])[at:at + 2]
            if records:
                batch[tp] = records
                self.positions[tp] = at + len(records)
        return batch

    def close(self):
        pass


def test_rebuilding_the_catalog_from_the_topics_ends_in_the_same_state(rep, erp, laptops, monkeypatch):
    ultra = laptops["ultra"]
    erp("erp.stock.availability_changed", stock_state(ultra, 2, ("PAR", 8, 1)))
    erp("erp.stock.availability_changed", stock_state(ultra, 1, ("PAR", 1, 0)))  # late
    erp("erp.product.updated", {**ultra, "sale_price": "1150", "version": 2})
    erp("erp.pricelist.created", price_list_state("Launch", [(ultra, 5, 1100)]))

    def seen():
        page = rep.get(PRODUCTS, query_string={"q": laptops["tag"], "active": "all"}).json
        return ([{k: v for k, v in p.items() if k != "replicated_at"} for p in page["items"]],
                [c for c in rep.get("/api/v1/catalog/categories").json if laptops["tag"] in c["path"]],
                price(rep, ultra, quantity=5))

    before = seen()
    monkeypatch.setattr(kafka_clients, "consumer", lambda *args, **kwargs: TopicReader(erp.log))
    assert rebuild("catalog", Settings.from_env()) == len(erp.log)
    assert seen() == before
    (shown,) = [p for p in before[0] if p["id"] == ultra["id"]]
    assert shown["availability"]["available"] == "7.0000" and before[2]["unit_price"] == "1100.0000"
