"""The board (deals by stage with totals) and the forecast (weighted amounts by month or owner), computed in SQL
over the deals the caller may see."""

from datetime import UTC, date, datetime, timedelta

from servicekit.auth.principal import Principal
from servicekit.problems import field_error
from shared_events.money import cents
from sqlalchemy import Date, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from .models import Deal, Stage
from .pipelines import get_pipeline, stages_of
from .service import visible_deals

BOARD_ORDER = (Deal.expected_close_date.asc().nullslast(), Deal.amount.desc(), Deal.id)


def _weighted(amount, probability):
    return func.round(func.sum(amount * probability) / 100, 2)


def board(session: Session, pipeline_id, args: dict, actor: Principal) -> dict:
    """Stages in order, each with its deals (open ones; closed ones too if asked), their count and totals per
    currency. At most `limit` deals are listed per stage; counts and totals cover them all."""
    pipeline = get_pipeline(session, pipeline_id)
    stages = stages_of(session, pipeline.id)
    shown = [visible_deals(actor), Deal.pipeline_id == pipeline.id]
    if not args.get("include_closed"):
        shown.append(Deal.status == "open")
    if args.get("owner_id"):
        shown.append(Deal.owner_id == str(args["owner_id"]))
    totals: dict[str, list[dict]] = {s.id: [] for s in stages}
    rows = session.execute(
        select(Deal.stage_id, Deal.currency, func.count().label("count"), func.sum(Deal.amount).label("amount"),
               _weighted(Deal.amount, Stage.probability).label("weighted"))
        .join(Stage, Stage.id == Deal.stage_id).where(*shown)
        .group_by(Deal.stage_id, Deal.currency).order_by(Deal.currency)).all()
    for r in rows:
        totals[r.stage_id].append({"currency": r.currency, "count": r.count, "amount": cents(r.amount),
                                   "weighted_amount": cents(r.weighted)})
    ranked = select(Deal.id, func.row_number().over(partition_by=Deal.stage_id, order_by=BOARD_ORDER).label("rn")
                    ).where(*shown).subquery()
    deals: dict[str, list[Deal]] = {s.id: [] for s in stages}
    for deal in session.execute(select(Deal).join(ranked, ranked.c.id == Deal.id)
                                .where(ranked.c.rn <= args.get("limit", 50)).order_by(*BOARD_ORDER)).scalars():
        deals[deal.stage_id].append(deal)
    return {
        "pipeline_id": pipeline.id, "pipeline_name": pipeline.name, "currency": pipeline.currency,
        "stages": [{"id": s.id, "name": s.name, "position": s.position, "probability": s.probability,
                    "kind": s.kind, "count": sum(t["count"] for t in totals[s.id]), "totals": totals[s.id],
                    "deals": deals[s.id]} for s in stages],
    }


def _months_later(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def _default_range(args: dict) -> tuple[date, date]:
    """From the first day of this month, twelve months, unless told otherwise."""
    start = args.get("from_") or datetime.now(UTC).date().replace(day=1)
    end = args.get("to") or _months_later(start, 12) - timedelta(days=1)
    if end < start:
        raise field_error("to", "must not be before from")
    return start, end


def forecast(session: Session, args: dict, actor: Principal) -> dict:
    """Open deals by expected close date and won deals by close date, per month (or owner) and currency.

    weighted = amount x stage probability / 100 of open deals; committed = won + open deals at or above
    `commit_probability`; best case = won + every open deal.
    """
    start, end = _default_range(args)
    threshold = args.get("commit_probability", 70)
    won_on = cast(func.timezone("UTC", Deal.closed_at), Date)
    is_open, is_won = Deal.status == "open", Deal.status == "won"
    when = case((is_won, won_on), else_=Deal.expected_close_date)
    conditions = [visible_deals(actor), or_(and_(is_open, Deal.expected_close_date.between(start, end)),
                                            and_(is_won, won_on.between(start, end)))]
    if args.get("pipeline_id"):
        conditions.append(Deal.pipeline_id == str(args["pipeline_id"]))
    if args.get("owner_id"):
        conditions.append(Deal.owner_id == str(args["owner_id"]))
    by_owner = args.get("group_by") == "owner"
    key = Deal.owner_id if by_owner else func.to_char(func.date_trunc("month", when), "YYYY-MM")
    zero = literal(0)
    open_amount = func.coalesce(func.sum(Deal.amount).filter(is_open), zero)
    won_amount = func.coalesce(func.sum(Deal.amount).filter(is_won), zero)
    committed_open = func.coalesce(func.sum(Deal.amount).filter(is_open, Stage.probability >= threshold), zero)
    stmt = (select(key.label("key"), Deal.currency,
                   func.count().filter(is_open).label("open_count"), open_amount.label("open_amount"),
                   func.coalesce(func.round(func.sum(Deal.amount * Stage.probability).filter(is_open) / 100, 2),
                                 zero).label("weighted_amount"),
                   (won_amount + committed_open).label("committed_amount"),
                   (won_amount + open_amount).label("best_case_amount"),
                   func.count().filter(is_won).label("won_count"), won_amount.label("won_amount"))
            .join(Stage, Stage.id == Deal.stage_id).where(*conditions)
            .group_by(key, Deal.currency).order_by(key.asc().nullsfirst(), Deal.currency))
    rows, totals = [], {}
    amounts = ("open_amount", "weighted_amount", "committed_amount", "best_case_amount", "won_amount")
    for r in session.execute(stmt).all():
        row = {"period": None if by_owner else r.key, "owner_id": r.key if by_owner else None,
               "currency": r.currency, "open_count": r.open_count, "won_count": r.won_count,
               **{a: cents(getattr(r, a)) for a in amounts}}
        rows.append(row)
        total = totals.setdefault(r.currency, {"currency": r.currency, "open_count": 0, "won_count": 0,
                                               **{a: cents(0) for a in amounts}})
        for f in ("open_count", "won_count", *amounts):
            total[f] += row[f]
    return {"group_by": "owner" if by_owner else "month", "from_": start, "to": end, "commit_probability": threshold,
            "pipeline_id": args.get("pipeline_id"), "rows": rows, "totals": list(totals.values())}
