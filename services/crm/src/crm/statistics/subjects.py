"""What can be counted about each subject: the dimensions it can be grouped by (with the joins their labels need),
the measures it sums, the filters it takes, and who may see which of its records.

Periods are cut in UTC: `date_trunc` runs on the timestamp as seen in UTC, so a deal created at 00:30 on 1 April in
Berlin (22:30 UTC on 31 March) counts in March. Weeks are ISO weeks (Monday to Sunday).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, and_, case, cast, func

from ..activities.models import Activity, ActivityType
from ..activities.service import visible_activities
from ..db import auth
from ..deals.models import DEAL_STATUSES, Deal, Pipeline, Stage
from ..deals.service import visible_deals
from ..leads.models import SOURCES, Lead
from ..leads.models import STATUSES as LEAD_STATUSES
from ..leads.service import visible_leads
from ..parties.models import Party
from ..quotes.models import STATUSES as QUOTE_STATUSES
from ..quotes.models import Quote
from ..quotes.service import visible_quotes

# period -> to_char pattern of its label; every label sorts in time order
PERIODS = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}

OWNERS = auth.users.alias("owners")


@dataclass(frozen=True)
class Dimension:
    """A way to split records: its columns (the key first, then its labels), the joins they need, and its order."""

    columns: tuple[tuple[str, Any], ...]
    joins: tuple[str, ...] = ()
    order_by: tuple = ()

    def at(self, name: str, period: str) -> "Dimension":
        return self

    @property
    def ordering(self) -> tuple:
        return self.order_by or tuple(expr for _, expr in self.columns)


@dataclass(frozen=True)
class Period:
    """Records by the day, ISO week, month, quarter or year (in UTC) of one of their timestamps."""

    column: Any

    def at(self, name: str, period: str) -> Dimension:
        start = func.date_trunc(period, func.timezone("UTC", self.column))
        return Dimension(((name, func.to_char(start, PERIODS[period])),))


@dataclass(frozen=True)
class Measure:
    expression: Any
    money: bool = True  # an amount in the record's currency: rows are then split by currency
    joins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filter:
    column: Any
    joins: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # the values it accepts, if limited


@dataclass(frozen=True)
class Subject:
    name: str
    permission: str  # besides statistics:read, the caller needs to be able to read the records themselves
    table: Any
    visible: Callable  # (Principal) -> SQL predicate
    date: Any  # what date_from and date_to bound
    joins: dict[str, tuple]  # name -> (target, on clause), in the order they may depend on each other
    dimensions: dict[str, Dimension | Period]
    filters: dict[str, Filter]
    measures: dict[str, Measure]
    currency: Any = None
    hidden_statuses: tuple[str, ...] = ()  # left out unless the status filter asks for them


def _owner(column) -> Dimension:
    return Dimension((("owner_id", column), ("owner_name", OWNERS.c.name), ("owner_email", OWNERS.c.email)),
                     ("owner",), (OWNERS.c.name, OWNERS.c.email, column))


def _party(column) -> Dimension:
    return Dimension((("party_id", column), ("party_name", Party.display_name)), ("party",),
                     (Party.display_name, column))


def _pipeline(column, joins: tuple[str, ...] = ("pipeline",)) -> Dimension:
    return Dimension((("pipeline_id", column), ("pipeline_name", Pipeline.name)), joins, (Pipeline.name, column))


def _plain(name: str, column, joins: tuple[str, ...] = ()) -> Dimension:
    return Dimension(((name, column),), joins)


DEALS = Subject(
    name="deals", permission="deals:read", table=Deal, visible=visible_deals, date=Deal.created_at,
    joins={"owner": (OWNERS, OWNERS.c.id == Deal.owner_id), "stage": (Stage, Stage.id == Deal.stage_id),
           "pipeline": (Pipeline, Pipeline.id == Deal.pipeline_id), "party": (Party, Party.id == Deal.party_id),
           "lead": (Lead, Lead.id == Deal.source_lead_id)},
    dimensions={
        "owner": _owner(Deal.owner_id),
        "stage": Dimension((("stage_id", Deal.stage_id), ("stage_name", Stage.name)), ("stage",),
                           (Stage.position, Stage.name, Deal.stage_id)),
        "pipeline": _pipeline(Deal.pipeline_id),
        "status": _plain("status", Deal.status),
        "source": _plain("source", Lead.source, ("lead",)),  # the source of the lead it came from; none if none
        "party": _party(Deal.party_id),
        "currency": _plain("currency", Deal.currency),
        "created_period": Period(Deal.created_at),
        "closed_period": Period(Deal.closed_at),
    },
    filters={"owner_id": Filter(Deal.owner_id), "pipeline_id": Filter(Deal.pipeline_id),
             "status": Filter(Deal.status, values=DEAL_STATUSES), "source": Filter(Lead.source, ("lead",), SOURCES)},
    measures={
        "sum_amount": Measure(func.sum(Deal.amount)),
        "avg_amount": Measure(func.round(func.avg(Deal.amount), 2)),
        # as on the board: amount x the probability of the stage the deal is in (won stages: 100, lost: 0)
        "weighted_amount": Measure(func.round(func.sum(Deal.amount * Stage.probability) / 100, 2), joins=("stage",)),
    },
    currency=Deal.currency,
)

ACTIVITIES = Subject(
    name="activities", permission="activities:read", table=Activity, visible=visible_activities,
    date=Activity.occurred_at,
    joins={"owner": (OWNERS, OWNERS.c.id == Activity.owner_id),
           "type": (ActivityType, ActivityType.key == Activity.type),
           "party": (Party, Party.id == Activity.party_id)},
    dimensions={
        "owner": _owner(Activity.owner_id),
        "type": Dimension((("type", Activity.type), ("type_label", ActivityType.label)), ("type",),
                          (ActivityType.position, Activity.type)),
        "direction": _plain("direction", Activity.direction),
        "party": _party(Activity.party_id),
        "occurred_period": Period(Activity.occurred_at),
        "created_period": Period(Activity.created_at),
    },
    filters={"owner_id": Filter(Activity.owner_id)},
    measures={"sum_duration_minutes": Measure(func.coalesce(func.sum(Activity.duration_minutes), 0), money=False)},
)

# when a lead left the funnel: converted or disqualified (a lead qualified again after a disqualification is open)
_lead_closed_at = case((Lead.status == "converted", Lead.converted_at),
                       (Lead.status == "disqualified", Lead.disqualified_at))

LEADS = Subject(
    name="leads", permission="leads:read", table=Lead, visible=visible_leads, date=Lead.created_at,
    joins={"owner": (OWNERS, OWNERS.c.id == Lead.owner_id)},
    dimensions={
        "owner": _owner(Lead.owner_id),
        "status": _plain("status", Lead.status),
        "source": _plain("source", Lead.source),
        "campaign": _plain("campaign", Lead.campaign),
        "created_period": Period(Lead.created_at),
        "closed_period": Period(_lead_closed_at),
    },
    filters={"owner_id": Filter(Lead.owner_id), "status": Filter(Lead.status, values=LEAD_STATUSES),
             "source": Filter(Lead.source, values=SOURCES)},
    measures={},
)

# as the quote lists show it: a sent quote past its validity (a date in UTC) is expired
_utc_today = cast(func.timezone("UTC", func.now()), Date)
_quote_status = case((and_(Quote.status == "sent", Quote.valid_until < _utc_today), "expired"), else_=Quote.status)
_quote_closed_at = case((Quote.status == "accepted", Quote.accepted_at),
                        (Quote.status == "rejected", Quote.rejected_at))

QUOTES = Subject(
    name="quotes", permission="quotes:read", table=Quote, visible=visible_quotes, date=Quote.created_at,
    joins={"owner": (OWNERS, OWNERS.c.id == Quote.owner_id), "party": (Party, Party.id == Quote.party_id),
           "deal": (Deal, Deal.id == Quote.deal_id), "pipeline": (Pipeline, Pipeline.id == Deal.pipeline_id)},
    dimensions={
        "owner": _owner(Quote.owner_id),
        "status": _plain("status", _quote_status),
        "pipeline": _pipeline(Deal.pipeline_id, ("deal", "pipeline")),
        "party": _party(Quote.party_id),
        "currency": _plain("currency", Quote.currency),
        "created_period": Period(Quote.created_at),
        "sent_period": Period(Quote.sent_at),
        "closed_period": Period(_quote_closed_at),
    },
    filters={"owner_id": Filter(Quote.owner_id), "pipeline_id": Filter(Deal.pipeline_id, ("deal",)),
             "status": Filter(_quote_status, values=QUOTE_STATUSES)},
    measures={"sum_net_total": Measure(func.sum(Quote.net_total)), "sum_tax_total": Measure(func.sum(Quote.tax_total)),
              "sum_gross_total": Measure(func.sum(Quote.gross_total))},
    currency=Quote.currency,
    # every version of a quote is a row: only the live ones count, unless superseded ones are asked for
    hidden_statuses=("superseded",),
)

SUBJECTS: dict[str, Subject] = {s.name: s for s in (DEALS, ACTIVITIES, LEADS, QUOTES)}

