"""The owner and sharing endpoints every owned record has (parties, deals, leads, activities, tasks), made once.

A module calls `add_owner_routes(blp, ...)` with its blueprint and its use cases:

    POST   /<id>/assign              give the record to another user (when the record has `assign`)
    GET    /<id>/shares              who else sees it
    POST   /<id>/shares              share with a user or a team, read-only or with write access
    DELETE /<id>/shares/<share_id>   stop sharing
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.web import sessions, with_etag

from .schemas import AssignSchema, ShareCreateSchema, ShareSchema
from .service import Sharing


@dataclass(frozen=True)
class OwnedRecord:
    noun: str            # "party": used in the documentation and the endpoint names ("PartyShares")
    permissions: str     # "parties": the prefix of its permissions (parties:read, parties:share, parties:assign)
    id_arg: str          # "party_id": the URL variable naming the record
    sharing: Sharing     # the module's sharing use cases
    assign: Callable | None = None  # assign(session, id, owner_id, actor)
    schema: type | None = None  # the record's schema, for the answer of assign


def add_owner_routes(blp, record: OwnedRecord) -> None:
    name = record.noun.capitalize()
    rule = f"/<uuid:{record.id_arg}>"
    if record.assign is not None:
        blp.route(f"{rule}/assign")(_assign_view(blp, record, name))
    blp.route(f"{rule}/shares")(_shares_view(blp, record, name))
    blp.route(f"{rule}/shares/<uuid:share_id>")(_share_view(blp, record, name))


def _assign_view(blp, record: OwnedRecord, name: str):
    @requires(f"{record.permissions}:assign")
    @blp.arguments(AssignSchema)
    @blp.response(200, record.schema)
    def post(self, data, **ids):
        with sessions().begin() as session:
            return with_etag(record.assign(session, ids[record.id_arg], data["owner_id"], current_principal()))
    post.__doc__ = f"Give the {record.noun} to another user."
    return type(f"{name}Assign", (MethodView,), {"post": post})


def _shares_view(blp, record: OwnedRecord, name: str):
    @requires(f"{record.permissions}:read")
    @blp.response(200, ShareSchema(many=True))
    def get(self, **ids):
        with sessions().begin() as session:
            return record.sharing.list(session, ids[record.id_arg], current_principal())
    get.__doc__ = f"Who else sees this {record.noun}."

    @requires(f"{record.permissions}:share")
    @blp.arguments(ShareCreateSchema)
    @blp.response(201, ShareSchema)
    def post(self, data, **ids):
        """Share with a user or a team, read-only or with write access."""
        with sessions().begin() as session:
            return record.sharing.share(session, ids[record.id_arg], data, current_principal())
    return type(f"{name}Shares", (MethodView,), {"get": get, "post": post})


def _share_view(blp, record: OwnedRecord, name: str):
    @requires(f"{record.permissions}:share")
    @blp.response(204)
    def delete(self, share_id, **ids):
        """Stop sharing."""
        with sessions().begin() as session:
            record.sharing.unshare(session, ids[record.id_arg], share_id, current_principal())
    return type(f"{name}Share", (MethodView,), {"delete": delete})
