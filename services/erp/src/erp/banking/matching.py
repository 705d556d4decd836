"""The matching rules of reconciliation, pure (no I/O, unit-tested): what explains a statement line, with the rule
that found it, a score out of 100 and a sentence for the accountant.

In order: (a) `reference`: an ISO 11649 RF creditor reference or an invoice number in the remittance text;
(b) `iban`: the counterparty's IBAN is known on a party and one of its open invoices has the amount; (c) `name`:
an open invoice of the amount, due near the booking date, of a party whose name resembles the counterparty's
(rapidfuzz); (d) `subset`: open invoices of one party (by IBAN or name) that add up to the amount (a batch
payment). Money out runs the same four rules over the open supplier bills (the bill's number or the supplier's
own invoice number, the supplier's IBAN, its name, a batch of its bills); then `cheque`: one of our cheques of
the amount whose number the text names; then `book`:
a ledger line already on the account (a payment or movement recorded by hand) of the amount near the date; then
the user's `rule`s (text contains / counterparty / amount range -> account, party and tax).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from rapidfuzz import fuzz, process

from ..invoicing.references import is_rf_reference as rf_valid  # noqa: F401 - the one ISO 11649 check
from ..invoicing.references import rf_reference as rf_of  # noqa: F401 - what an invoice prints

ZERO = Decimal("0.00")
RF_WRITTEN = re.compile(r"\bRF\d{2}(?: [A-Z0-9]{4})+(?: [A-Z0-9]{1,3})?\b")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|[A-Za-z0-9]")
NAME_THRESHOLD = 80
SUBSET_LIMIT = 24  # open items of one party searched for a batch payment


def normalized(number: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (number or "").upper())


@dataclass(frozen=True)
class OpenItem:
    """An open customer invoice as matching sees it."""

    invoice_id: str
    number: str
    party_id: str
    party_name: str
    open_amount: Decimal
    due_date: date
    alt_number: str = ""  # a supplier bill: the supplier's own invoice number, which our transfers quote


@dataclass(frozen=True)
class BookItem:
    """A ledger line on the account's ledger account that no statement line explains yet."""

    journal_line_id: int
    amount: Decimal  # money in > 0
    entry_date: date
    text: str


@dataclass(frozen=True)
class IssuedItem:
    """One of our cheques written on the account and not yet paid by the bank."""

    cheque_id: str
    number: str
    amount: Decimal


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    account: str
    party_id: str | None = None
    text_contains: str | None = None
    counterparty_contains: str | None = None
    counterparty_iban: str | None = None
    direction: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    tax_rate: Decimal | None = None
    tax_account: str | None = None


@dataclass(frozen=True)
class Line:
    amount: Decimal
    booking_date: date
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    texts: tuple[str, ...] = ()


@dataclass
class Proposal:
    rule: str
    score: int
    explanation: str
    invoices: list[tuple[OpenItem, Decimal]] = field(default_factory=list)
    journal_line_ids: list[int] = field(default_factory=list)
    account: str | None = None
    party_id: str | None = None
    difference: Decimal = ZERO  # what the items leave of the line: written off within the tolerance
    issued_cheque_ids: list[str] = field(default_factory=list)
    bills: list[tuple[OpenItem, Decimal]] = field(default_factory=list)
    tax_rate: Decimal | None = None  # a user rule's: the line is gross, its tax goes to tax_account
    tax_account: str | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "score": self.score, "explanation": self.explanation,
                "invoices": [{"invoice_id": item.invoice_id, "number": item.number, "party_id": item.party_id,
                              "amount": amount} for item, amount in self.invoices],
                "bills": [{"bill_id": item.invoice_id, "number": item.number, "party_id": item.party_id,
                           "amount": amount} for item, amount in self.bills],
                "journal_line_ids": self.journal_line_ids, "account": self.account, "party_id": self.party_id,
                "difference": self.difference, "issued_cheque_ids": self.issued_cheque_ids,
                "tax_rate": self.tax_rate, "tax_account": self.tax_account}


def references_in(texts: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(RF bodies, normalized tokens) found in the texts: what may name an invoice."""
    bodies, tokens = [], []
    for text in texts:
        upper = (text or "").upper()
        # an RF reference is written in one piece or in groups of four (RF18 5390 0754 7034)
        candidates = [t for t in upper.split() if t.startswith("RF")]
        for written in RF_WRITTEN.findall(upper):  # the words after it may look like one more group: try shorter
            groups = written.split()
            candidates += ["".join(groups[:n]) for n in range(len(groups), 1, -1)]
        for compact in candidates:
            if rf_valid(compact):
                bodies.append(compact[4:])
                break
        tokens += [normalized(t) for t in TOKEN.findall(upper)]
    return bodies, [t for t in tokens if len(t) >= 4]


def _settle(items: list[OpenItem], amount: Decimal, tolerance: Decimal) -> tuple[list[tuple[OpenItem, Decimal]],
                                                                                   Decimal, str]:
    """Allocate `amount` to items, oldest due first: (allocations, difference, kind of match)."""
    total = sum((i.open_amount for i in items), ZERO)
    if total == amount:
        return [(i, i.open_amount) for i in items], ZERO, "exact"
    if abs(total - amount) <= tolerance:
        return [(i, i.open_amount) for i in items], amount - total, "written off"
    if amount > total:
        return [(i, i.open_amount) for i in items], amount - total, "overpaid"
    left, plan = amount, []
    for item in sorted(items, key=lambda i: i.due_date):
        if left <= 0:
            break
        take = min(item.open_amount, left)
        plan.append((item, take))
        left -= take
    return plan, ZERO, "partial"


def _by_reference(line: Line, items: "OpenItems", tolerance: Decimal) -> Proposal | None:
    bodies, tokens = references_in(line.texts)
    found: dict[str, OpenItem] = {}
    how = []
    for body in bodies:
        for item in items.numbered(body):
            found[item.invoice_id] = item
            how.append(f"RF reference of {item.number}")
    for token in tokens:
        for item in items.numbered(token):
            if item.invoice_id not in found:
                found[item.invoice_id] = item
                quoted = item.alt_number if normalized(item.alt_number) == token else item.number
                how.append(f"invoice number {quoted} in the text" + (f" ({item.number})" if quoted != item.number
                                                                     else ""))
    if not found:
        return None
    parties = {i.party_id for i in found.values()}
    if len(parties) > 1:
        return None  # references of several customers: for a person to settle
    plan, difference, kind = _settle(list(found.values()), line.amount, tolerance)
    score = {"exact": 100, "written off": 95, "partial": 90, "overpaid": 85}[kind]
    return Proposal("reference", score, f"{'; '.join(how)}: {kind}", plan, party_id=parties.pop(),
                    difference=difference)


def _subset(items: list[OpenItem], amount: Decimal) -> list[OpenItem] | None:
    """Open items whose open amounts add up to `amount` exactly (fewest items first found by cents DP)."""
    items = sorted(items, key=lambda i: i.due_date)[:SUBSET_LIMIT]
    target = int(amount * 100)
    reach: dict[int, tuple[int, ...]] = {0: ()}
    for index, item in enumerate(items):
        cents = int(item.open_amount * 100)
        for total, chosen in list(reach.items()):
            new = total + cents
            if new <= target and new not in reach:
                reach[new] = chosen + (index,)
        if target in reach:
            break
    chosen = reach.get(target)
    return [items[i] for i in chosen] if chosen and len(chosen) > 1 else None


def similarity(a: str | None, b: str | None) -> int:
    if not a or not b:
        return 0
    return int(fuzz.token_set_ratio(a.lower(), b.lower()))


class OpenItems:
    """The open invoices indexed the ways matching looks them up (by number, amount, party and party name), built
    once for a run over many lines and told what each applied match took."""

    def __init__(self, items: list[OpenItem]):
        self.by_id: dict[str, OpenItem] = {}
        self.by_number: dict[str, list[str]] = defaultdict(list)
        self.by_amount: dict[Decimal, set[str]] = defaultdict(set)
        self.by_party: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        for item in items:
            self.by_id[item.invoice_id] = item
            self.by_number[normalized(item.number)].append(item.invoice_id)
            if item.alt_number and normalized(item.alt_number) != normalized(item.number):
                self.by_number[normalized(item.alt_number)].append(item.invoice_id)
            self.by_amount[item.open_amount].add(item.invoice_id)
            self.by_party[item.party_id].add(item.invoice_id)
            self.names[item.party_id] = item.party_name.lower()

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def numbered(self, number: str) -> list[OpenItem]:
        return [self.by_id[i] for i in self.by_number.get(number, ()) if i in self.by_id]

    def with_amount(self, amount: Decimal) -> list[OpenItem]:
        return [self.by_id[i] for i in self.by_amount.get(amount, ())]

    def of_party(self, party_id: str) -> list[OpenItem]:
        return [self.by_id[i] for i in self.by_party.get(party_id, ())]

    def party_named(self, name: str, cutoff: int) -> str | None:
        """The party whose name resembles `name` best, at `cutoff` or more (rapidfuzz, in C over all names)."""
        found = process.extractOne(name.lower(), self.names, scorer=fuzz.token_set_ratio, score_cutoff=cutoff)
        return found[2] if found else None

    def take(self, invoice_id: str, amount: Decimal) -> None:
        item = self.by_id.get(invoice_id)
        if item is None:
            return
        self.by_amount[item.open_amount].discard(invoice_id)
        left = item.open_amount - amount
        if left <= 0:
            del self.by_id[invoice_id]
            self.by_party[item.party_id].discard(invoice_id)
            return
        self.by_id[invoice_id] = replace(item, open_amount=left)
        self.by_amount[left].add(invoice_id)


def _document_proposals(line: Line, items: OpenItems, party_ibans: dict[str, str], tolerance: Decimal,
                        noun: str) -> list[Proposal]:
    """Rules (a) to (d) for a line of a positive amount over open documents (customer invoices for money in,
    supplier bills for money out): reference, known IBAN and amount, amount and due date with a similar name,
    and a subset of one party's documents adding up to the amount."""
    proposals: list[Proposal] = []
    found = _by_reference(line, items, tolerance)
    if found:
        proposals.append(found)
    party = party_ibans.get((line.counterparty_iban or "").upper())
    of_party = items.of_party(party) if party else []
    exact = [i for i in of_party if i.open_amount == line.amount]
    if exact:
        item = min(exact, key=lambda i: i.due_date)
        proposals.append(Proposal("iban", 95 if len(exact) == 1 else 85,
                                  f"IBAN {line.counterparty_iban} is {item.party_name}'s and {noun} {item.number} is "
                                  f"open for {item.open_amount}", [(item, item.open_amount)], party_id=party))
    named = []
    for item in items.with_amount(line.amount):
        score = similarity(line.counterparty_name, item.party_name)
        if score >= NAME_THRESHOLD:
            days = abs((item.due_date - line.booking_date).days)
            named.append((score - min(days, 60) / 6, score, days, item))
    if named:
        weighted, score, days, item = max(named, key=lambda x: (x[0], x[3].invoice_id))
        proposals.append(Proposal("name", max(50, min(89, int(weighted))),
                                  f"{line.counterparty_name!r} resembles {item.party_name!r} ({score}%), {noun} "
                                  f"{item.number} is open for {item.open_amount}, due {days} days from the booking",
                                  [(item, item.open_amount)], party_id=item.party_id))
    if not party and line.counterparty_name:
        party = items.party_named(line.counterparty_name, 85)
        of_party = items.of_party(party) if party else []
    subset = _subset(of_party, line.amount) if of_party else None
    if subset:
        proposals.append(Proposal("subset", 80, f"{len(subset)} open {noun}s of {subset[0].party_name} add up "
                                  f"to {line.amount}: {', '.join(i.number for i in subset)}",
                                  [(i, i.open_amount) for i in subset], party_id=party))
    return proposals


def propose(line: Line, open_items: "OpenItems | list[OpenItem]", book: list[BookItem], rules: list[Rule],
            party_ibans: dict[str, str], tolerance: Decimal = ZERO,
            issued: tuple[IssuedItem, ...] | list[IssuedItem] = (),
            bills: "OpenItems | None" = None) -> list[Proposal]:
    """Every proposal for a line, best first; the first rule that finds something ranks first."""
    items = open_items if isinstance(open_items, OpenItems) else OpenItems(open_items)
    proposals: list[Proposal] = []
    if line.amount < 0 and bills:  # money out: the same rules over the open supplier bills, on the amount paid
        for found in _document_proposals(replace(line, amount=-line.amount), bills, party_ibans, tolerance, "bill"):
            found.bills, found.invoices, found.difference = found.invoices, [], -found.difference
            proposals.append(found)
    if line.amount < 0 and issued:
        _, tokens = references_in(line.texts)
        numbers = set(tokens) | {t for text in line.texts for t in re.findall(r"\d+", text or "")}
        for cheque in issued:
            if cheque.amount == -line.amount and (cheque.number in numbers or cheque.number.lstrip("0") in numbers):
                proposals.append(Proposal("cheque", 97, f"our cheque {cheque.number} of {cheque.amount} paid by the "
                                          "bank", issued_cheque_ids=[cheque.cheque_id]))
                break
    if line.amount > 0 and items:
        proposals += _document_proposals(line, items, party_ibans, tolerance, "invoice")
    near = [b for b in book if b.amount == line.amount and abs((b.entry_date - line.booking_date).days) <= 7]
    if near:
        item = min(near, key=lambda b: abs((b.entry_date - line.booking_date).days))
        days = abs((item.entry_date - line.booking_date).days)
        proposals.append(Proposal("book", 90 - days * 2, f"already in the books: {item.text} of {item.amount} on "
                                  f"{item.entry_date.isoformat()}", journal_line_ids=[item.journal_line_id]))
    for rule in rules:
        if rule_fits(rule, line):
            tax = (f" with {(rule.tax_rate * 100).normalize():f}% tax to {rule.tax_account or 'VAT'}"
                   if rule.tax_rate else "")
            proposals.append(Proposal("rule", 88, f"your rule {rule.name!r}: book to {rule.account}{tax}",
                                      account=rule.account, party_id=rule.party_id, tax_rate=rule.tax_rate,
                                      tax_account=rule.tax_account))
            break
    order = {"cheque": 0, "reference": 0, "iban": 1, "name": 2, "subset": 3, "book": 4, "rule": 5}
    return sorted(proposals, key=lambda p: (-p.score, order[p.rule]))


def rule_fits(rule: Rule, line: Line) -> bool:
    text = " ".join(t for t in line.texts if t).lower()
    direction = "in" if line.amount > 0 else "out"
    size = abs(line.amount)
    return ((not rule.direction or rule.direction == direction)
            and (not rule.text_contains or rule.text_contains.lower() in text)
            and (not rule.counterparty_contains or rule.counterparty_contains.lower()
                 in (line.counterparty_name or "").lower())
            and (not rule.counterparty_iban or rule.counterparty_iban == (line.counterparty_iban or "").upper())
            and (rule.amount_min is None or size >= rule.amount_min)
            and (rule.amount_max is None or size <= rule.amount_max))
