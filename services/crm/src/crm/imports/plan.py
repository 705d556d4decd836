"""An import's plan: what each row will do (create, update, leave unchanged, skip) before anything is written.

A dry run shows the plan; a real import writes it. Both come from the same code, so the preview is what happens.
"""

from dataclasses import dataclass, field

PREVIEW_ROWS = 20
MAX_ERRORS = 1000


@dataclass(slots=True)  # an import holds one per row: no __dict__ each
class Item:
    row: int  # the row in the file (0: a company created for a person's company name)
    action: str  # create | update | unchanged | skip
    record: dict  # create: every column of the new row; update: the row as it will be
    match_id: str | None = None  # the existing (or earlier) record the row matched
    match_reason: str | None = None  # tax_id | email | phone
    before: dict | None = None  # update: the record's state before, kept to revert
    note: str | None = None


@dataclass
class Plan:
    target: str
    rows: int
    items: list[Item] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    def count(self, action: str, created_for_rows_only: bool = False) -> int:
        return sum(1 for i in self.items if i.action == action and (i.row or not created_for_rows_only))

    def report(self, shown_fields: tuple[str, ...]) -> dict:
        """Counts, errors and the first rows as they would be stored."""
        preview = [{"row": i.row, "action": i.action, "match_id": i.match_id, "match_reason": i.match_reason,
                    "note": i.note, "record": {k: i.record.get(k) for k in shown_fields}}
                   for i in sorted(self.items, key=lambda i: i.row)[:PREVIEW_ROWS]]
        error_rows = {e["row"] for e in self.errors}
        return {"rows": self.rows, "to_create": self.count("create"), "to_update": self.count("update"),
                "unchanged": self.count("unchanged"), "skipped": self.count("skip"), "error_rows": len(error_rows),
                "errors": self.errors[:MAX_ERRORS], "warnings": self.warnings[:MAX_ERRORS], "preview": preview}


@dataclass
class Duplicates:
    """The duplicate rule of an import, one for parties and leads: a row that matches a record the importer can
    see (`match`: (reason, record id)) or an earlier row of the file (`earlier`: (reason, its item)) is skipped,
    or merged into that record's single update item (on_duplicate="update"); records the importer may not change
    are row errors. `current` holds the matched records' rows, `may_edit` the ids the importer may change."""

    noun: str
    current: dict
    may_edit: set
    on_duplicate: str
    plan: Plan
    in_file: dict = field(default_factory=dict)  # keys of the rows planned so far -> their item
    updates: dict = field(default_factory=dict)  # existing record id -> its update item

    def applies(self, match, earlier) -> bool:
        return self.on_duplicate != "create" and bool(match or earlier)

    def merge_target(self, number: int, data: dict, match, earlier, skip_note=None) -> Item | None:
        """The item the row's values go into, or None when the row is skipped or refused (said in the plan).
        `skip_note(record)`: why a matched record is left as it is (None: it may be updated)."""
        reason = match[0] if match else earlier[0]
        target = match[1] if match else earlier[1].record["id"]
        skipped = {**data, "id": None}
        if self.on_duplicate == "skip":
            self.plan.items.append(Item(number, "skip", skipped, target, reason))
            return None
        note = skip_note(self.current[target]) if match and skip_note else None
        if note:
            self.plan.items.append(Item(number, "skip", skipped, target, reason, note=note))
            return None
        if match and target not in self.may_edit:
            self.plan.errors.append({"row": number, "field": reason, "column": None, "message":
                                     f"matches {self.noun} {target}, which you may see but not change"})
            return None
        base = self.updates.get(target) if match else earlier[1]
        if base is None:
            base = Item(number, "update", dict(self.current[target]), target, reason, before=self.current[target])
            self.updates[target] = base
            self.plan.items.append(base)
        else:  # a later row about the same record: it adds to the earlier row's values
            self.plan.items.append(Item(number, "skip", skipped, target, reason, note=f"merged into row {base.row}"))
        return base

    def remember(self, keys, item: Item) -> None:
        for k in keys:
            self.in_file.setdefault(k, item)
