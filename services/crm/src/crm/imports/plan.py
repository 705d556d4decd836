"""An import's plan: what each row will do (create, update, leave unchanged, skip) before anything is written.

A dry run shows the plan; a real import writes it. Both come from the same code, so the preview is what happens.
"""

from dataclasses import dataclass, field

PREVIEW_ROWS = 20
MAX_ERRORS = 1000


@dataclass
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
