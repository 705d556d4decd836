"""Who gets in, and who sees and changes what: authentication, roles, ownership, sharing, teams."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from crm.db import auth
from servicekit.testing import every_route, is_public
from sqlalchemy import select, update

pytestmark = pytest.mark.db


def from_new_address() -> dict:
    """A client address of its own, so the per-address login limit of one test never touches another."""
    return {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


def company(client, **over):
    body = {"kind": "company", "legal_name": f"Owned {uuid.uuid4().hex[:8]}", **over}
    r = client.post("/api/v1/parties", json=body)
    assert r.status_code == 201, r.json
    return r.json


def test_every_route_but_health_metrics_docs_and_login_answers_401_without_a_token(app, anonymous):
    checked = 0
    for url, method, endpoint in every_route(app):
        r = anonymous.open(url, method=method, json={} if method in ("POST", "PATCH", "PUT") else None)
        r.close()
        if is_public(endpoint):
            assert r.status_code != 401, (method, url)
        else:
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.content_type == "application/problem+json" and "Bearer" in r.headers["WWW-Authenticate"]
            checked += 1
    assert checked >= 20  # the walk really covered the API


def test_bad_expired_and_revoked_tokens_are_401_and_missing_permissions_403(app, anonymous, as_user):
    assert anonymous.get("/api/v1/parties", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    rep = as_user("sales_rep")
    assert rep.get("/api/v1/parties").status_code == 200
    forbidden = rep.get("/api/v1/users")
    assert forbidden.status_code == 403 and forbidden.json["missing_permission"] == "users:read"
    with app.extensions["crm.db"].sessions.begin() as s:
        s.execute(update(auth.api_tokens).where(auth.api_tokens.c.id == rep.user["token_id"])
                  .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    app.extensions["auth.principals"].clear()  # a change behind the API's back counts once PRINCIPAL_TTL has passed
    assert rep.get("/api/v1/parties").status_code == 401
    other = as_user("sales_rep")
    assert other.post("/api/v1/auth/logout").status_code == 204
    assert other.get("/api/v1/me").status_code == 401


def test_login_gives_a_token_and_passwords_are_stored_with_argon2(app, anonymous, make_user):
    user = make_user("sales_rep")
    r = anonymous.post("/api/v1/auth/login", json={"email": user["email"].upper(), "password": user["password"]},
                       environ_base=from_new_address())
    assert r.status_code == 200 and r.json["token"].startswith("crm_ses_") and r.json["user"]["roles"] == ["sales_rep"]
    me = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json['token']}"}).json
    assert me["email"] == user["email"] and "parties:create" in me["permissions"]
    with app.extensions["crm.db"].sessions() as s:
        stored = s.execute(select(auth.users.c.password_hash).where(auth.users.c.id == user["id"])).scalar_one()
        hashes = s.execute(select(auth.api_tokens.c.token_hash)).scalars().all()
    assert stored.startswith("$argon2id$") and user["password"] not in stored
    assert r.json["token"] not in hashes and all(len(h) == 64 for h in hashes)


def _login(anonymous, user, password, address):
    return anonymous.post("/api/v1/auth/login", json={"email": user["email"], "password": password},
                          environ_base=address)


def test_failed_logins_slow_the_guesser_with_growing_delays_but_never_lock_the_owner_out(app, anonymous,
                                                                                          make_user):
    victim, bystander = make_user("sales_rep"), make_user("sales_rep")
    attacker = from_new_address()
    for _ in range(5):
        bad = _login(anonymous, victim, "wrong-password!", attacker)
        assert bad.status_code == 401 and bad.json["detail"] == "Invalid email or password."
    slowed = _login(anonymous, victim, victim["password"], attacker)
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "1"
    # failures sent from elsewhere never keep the owner out
    assert _login(anonymous, victim, victim["password"], from_new_address()).status_code == 200
    # each further failure doubles the wait: three more (as if spaced out) make it 8 s
    with app.extensions["crm.db"].sessions.begin() as s:
        for _ in range(3):
            s.execute(auth.login_failures.insert().values(email=victim["email"].lower(),
                                                          address=attacker["REMOTE_ADDR"]))
    assert int(_login(anonymous, victim, victim["password"], attacker).headers["Retry-After"]) in (7, 8)
    # one address failing on many accounts waits for any account
    spray = from_new_address()
    for i in range(20):
        anonymous.post("/api/v1/auth/login", json={"email": f"nobody{i}-{uuid.uuid4().hex}@x.test",
                                                    "password": "guess-guess"}, environ_base=spray)
    assert _login(anonymous, bystander, bystander["password"], spray).status_code == 429
    assert _login(anonymous, bystander, bystander["password"], from_new_address()).status_code == 200


def test_a_distributed_guesser_is_slowed_on_the_account_it_targets_while_its_owner_logs_in(anonymous, make_user):
    victim = make_user("sales_rep")
    bots = [from_new_address() for _ in range(20)]
    for bot in bots:
        assert _login(anonymous, victim, "wrong-password!", bot).status_code == 401
    assert _login(anonymous, victim, victim["password"], bots[0]).status_code == 429  # it failed here before
    assert _login(anonymous, victim, victim["password"], from_new_address()).status_code == 200


def test_unknown_accounts_and_wrong_passwords_look_the_same(anonymous, make_user):
    user = make_user("marketing")
    a = anonymous.post("/api/v1/auth/login", json={"email": f"ghost-{uuid.uuid4().hex}@x.test", "password": "x" * 12},
                       environ_base=from_new_address())
    b = anonymous.post("/api/v1/auth/login", json={"email": user["email"], "password": "x" * 12},
                       environ_base=from_new_address())
    assert a.status_code == b.status_code == 401 and a.json["detail"] == b.json["detail"]


def test_personal_api_tokens_are_shown_once_listed_without_secret_and_revocable(as_user, anonymous):
    rep = as_user("sales_rep")
    r = rep.post("/api/v1/me/tokens", json={"name": "website form", "expires_at": "2099-01-01T00:00:00+00:00"})
    assert r.status_code == 201 and r.json["token"].startswith("crm_pat_")
    token, token_id = r.json["token"], r.json["id"]
    auth_header = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/v1/parties", headers=auth_header).status_code == 200
    listed = rep.get("/api/v1/me/tokens").json
    assert any(t["id"] == token_id and t["prefix"] == token[:12] and "token" not in t for t in listed)
    past = rep.post("/api/v1/me/tokens", json={"name": "x", "expires_at": "2001-01-01T00:00:00+00:00"})
    assert past.status_code == 422 and past.json["errors"][0]["field"] == "expires_at"
    other = as_user("sales_rep")
    assert other.delete(f"/api/v1/me/tokens/{token_id}").status_code == 404  # not theirs to revoke
    assert rep.delete(f"/api/v1/me/tokens/{token_id}").status_code == 204
    assert anonymous.get("/api/v1/parties", headers=auth_header).status_code == 401


def test_admins_manage_users_deactivation_revokes_access_and_the_last_admin_stays(as_user, anonymous):
    admin = as_user("admin")
    weak = admin.post("/api/v1/users", json={"email": "weak@x.test", "name": "W", "password": "short"})
    assert weak.status_code == 422 and weak.json["errors"][0]["field"] == "password"
    bad_role = admin.post("/api/v1/users", json={"email": "r@x.test", "name": "R", "password": "x" * 12,
                                                 "roles": ["wizard"]})
    assert bad_role.status_code == 422 and bad_role.json["errors"][0]["field"] == "roles"
    email = f"new-{uuid.uuid4().hex[:6]}@x.test"
    created = admin.post("/api/v1/users", json={"email": email, "name": "New Rep", "password": "a-strong-password",
                                                "roles": ["sales_rep"]})
    assert created.status_code == 201 and created.json["roles"] == ["sales_rep"]
    assert admin.post("/api/v1/users", json={"email": email.upper(), "name": "Dup",
                                             "password": "a-strong-password"}).status_code == 409
    login = anonymous.post("/api/v1/auth/login", json={"email": email, "password": "a-strong-password"},
                           environ_base=from_new_address()).json
    hdr = {"Authorization": f"Bearer {login['token']}"}
    assert anonymous.get("/api/v1/parties", headers=hdr).status_code == 200
    user_url = f"/api/v1/users/{created.json['id']}"
    assert admin.patch(user_url, json={"is_active": False}).status_code == 428  # If-Match is required
    assert admin.patch(user_url, json={"is_active": False}, headers={"If-Match": '"stale"'}).status_code == 412
    off = admin.patch(user_url, json={"is_active": False}, headers={"If-Match": admin.get(user_url).headers["ETag"]})
    assert off.status_code == 200 and off.json["is_active"] is False
    assert anonymous.get("/api/v1/parties", headers=hdr).status_code == 401
    assert anonymous.post("/api/v1/auth/login", json={"email": email, "password": "a-strong-password"},
                          environ_base=from_new_address()).status_code == 401


def test_custom_roles_are_checked_against_the_permission_catalogue(as_user):
    admin = as_user("admin")
    name = f"viewer_{uuid.uuid4().hex[:6]}"
    bad = admin.post("/api/v1/roles", json={"name": name, "permissions": ["parties:fly"]})
    assert bad.status_code == 422 and "parties:fly" in bad.json["errors"][0]["message"]
    r = admin.post("/api/v1/roles", json={"name": name, "description": "reads", "permissions": ["parties:read"]})
    assert r.status_code == 201 and r.json["builtin"] is False
    builtin = {"If-Match": admin.get("/api/v1/roles/sales_rep").headers["ETag"]}
    assert admin.patch("/api/v1/roles/sales_rep", json={"permissions": ["*"]}, headers=builtin).status_code == 409
    viewer = as_user(name)
    assert viewer.get("/api/v1/parties").status_code == 200
    assert viewer.post("/api/v1/parties", json={"kind": "company", "legal_name": "No"}).status_code == 403


# What each built-in role may do: (method, path, body) -> roles allowed. Everything else must be 403.
MATRIX = [
    ("GET", "/api/v1/parties", None, {"admin", "sales_manager", "sales_rep", "support_agent", "marketing"}),
    ("POST", "/api/v1/parties", {"kind": "company", "legal_name": "Matrix"}, {"admin", "sales_manager", "sales_rep"}),
    ("GET", "/api/v1/users", None, {"admin", "sales_manager"}),
    ("POST", "/api/v1/users", {"email": "m@x.test", "name": "M", "password": "short"}, {"admin"}),
    ("GET", "/api/v1/roles", None, {"admin"}),
    ("GET", "/api/v1/audit", None, {"admin", "sales_manager"}),
    ("GET", "/api/v1/teams", None, {"admin", "sales_manager", "sales_rep", "support_agent", "marketing"}),
    ("POST", "/api/v1/teams", {"name": ""}, {"admin"}),
]


@pytest.mark.parametrize("role", ["admin", "sales_manager", "sales_rep", "support_agent", "marketing"])
def test_role_matrix(as_user, role):
    c = as_user(role)
    for method, path, body, allowed in MATRIX:
        r = c.open(path, method=method, json=body)
        if role in allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


def test_reps_see_only_their_own_records_and_nothing_leaks(as_user):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    tag = uuid.uuid4().hex[:8]
    mine = company(alice, legal_name=f"{tag} Alice Corp", tax_id=f"T{tag}")
    assert mine["owner_id"] == alice.user["id"]
    assert bob.get(f"/api/v1/parties/{mine['id']}").status_code == 404  # same answer as a party that does not exist
    for query in ({"q": tag}, {"tax_id": f"T{tag}"}, {"owner_id": alice.user["id"]}):
        page = bob.get("/api/v1/parties", query_string=query).json
        assert page["total"] == 0 and page["items"] == [], query
    assert bob.patch(f"/api/v1/parties/{mine['id']}", json={"tax_id": "X"},
                     headers={"If-Match": '"1"'}).status_code == 404
    person = bob.post("/api/v1/parties", json={"kind": "person", "last_name": "Spy", "company_id": mine["id"]})
    assert person.status_code == 422  # cannot even link to a company one cannot see
    assert alice.get("/api/v1/parties", query_string={"q": tag}).json["total"] == 1


def test_sharing_read_then_write_with_a_user(as_user):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    p = company(alice)
    url = f"/api/v1/parties/{p['id']}"
    share = alice.post(url + "/shares", json={"user_id": bob.user["id"], "access": "read"})
    assert share.status_code == 201 and share.json["grantee"] == bob.user["email"]
    assert bob.get(url).status_code == 200
    assert bob.patch(url, json={"tax_id": "B"}, headers={"If-Match": '"1"'}).status_code == 403
    assert alice.post(url + "/shares", json={"user_id": bob.user["id"], "access": "write"}).status_code == 201
    assert len(alice.get(url + "/shares").json) == 1  # re-sharing changes the access, it does not duplicate
    assert bob.patch(url, json={"tax_id": "B"}, headers={"If-Match": '"1"'}).status_code == 200
    assert alice.delete(f"{url}/shares/{share.json['id']}").status_code == 204
    assert bob.get(url).status_code == 404


def test_team_shares_and_managers(as_user):
    admin = as_user("admin")
    alice, carol, manager = as_user("sales_rep"), as_user("sales_rep"), as_user("sales_manager")
    team = admin.post("/api/v1/teams", json={"name": f"North {uuid.uuid4().hex[:6]}"}).json
    for member, role in ((alice, "member"), (carol, "member"), (manager, "manager")):
        assert admin.post(f"/api/v1/teams/{team['id']}/members",
                          json={"user_id": member.user["id"], "role": role}).status_code == 200
    p = company(alice)
    url = f"/api/v1/parties/{p['id']}"
    assert carol.get(url).status_code == 404
    assert manager.get(url).status_code == 200  # managers see their members' records without any share
    assert alice.post(url + "/shares", json={"team_id": team["id"]}).status_code == 201
    assert carol.get(url).status_code == 200
    moved = manager.post(url + "/assign", json={"owner_id": carol.user["id"]})
    assert moved.status_code == 200 and moved.json["owner_id"] == carol.user["id"] and moved.json["version"] == 2
    assert alice.post(url + "/assign", json={"owner_id": alice.user["id"]}).status_code == 403  # reps cannot assign
    assert admin.get(url).status_code == 200


def test_only_assigners_create_records_for_someone_else(as_user):
    rep, manager = as_user("sales_rep"), as_user("sales_manager")
    other = as_user("sales_rep").user["id"]
    r = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": "For you", "owner_id": other})
    assert r.status_code == 403
    r = manager.post("/api/v1/parties", json={"kind": "company", "legal_name": "For you", "owner_id": other})
    assert r.status_code == 201 and r.json["owner_id"] == other


def test_support_and_marketing_read_everything_but_support_edits_only_what_is_shared(as_user):
    alice, support, marketing = as_user("sales_rep"), as_user("support_agent"), as_user("marketing")
    p = company(alice)
    url = f"/api/v1/parties/{p['id']}"
    assert support.get(url).status_code == 200 and marketing.get(url).status_code == 200
    assert support.patch(url, json={"tax_id": "S"}, headers={"If-Match": '"1"'}).status_code == 403
    alice.post(url + "/shares", json={"user_id": support.user["id"], "access": "write"})
    assert support.patch(url, json={"tax_id": "S"}, headers={"If-Match": '"1"'}).status_code == 200


def test_the_audit_trail_says_who_changed_which_field_through_which_token(as_user, outbox_events):
    rep, admin = as_user("sales_rep"), as_user("admin")
    p = company(rep, tax_id="OLD")
    rep.patch(f"/api/v1/parties/{p['id']}", json={"tax_id": "NEW"}, headers={"If-Match": '"1"'})
    trail = admin.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": p["id"]}).json["items"]
    assert [e["action"] for e in trail] == ["update", "create"]
    assert trail[0]["changes"]["tax_id"] == {"before": "OLD", "after": "NEW"}
    assert set(trail[0]["changes"]) == {"tax_id", "version", "updated_at"}
    assert trail[0]["actor_id"] == rep.user["id"] and trail[0]["token_id"] == rep.user["token_id"]
    # and the event carries the acting user, so the ERP can say who caused its change
    attrs = outbox_events(p["id"])[-1][1]["attributes"]
    assert attrs["actor"] == rep.user["id"] and attrs["actorname"] == rep.user["email"]


def test_no_role_change_can_leave_the_crm_without_an_administrator(app, as_user):
    """Every admin but one is deactivated; that last one holds admin rights through a custom role only."""
    from servicekit.auth.service import _active_admins
    admin = as_user("admin")
    name = f"boss_{uuid.uuid4().hex[:6]}"
    assert admin.post("/api/v1/roles", json={"name": name, "permissions": ["*"]}).status_code == 201
    last = as_user(name)
    with app.extensions["crm.db"].sessions.begin() as s:
        others = _active_admins(s, auth) - {last.user["id"]}
        s.execute(update(auth.users).where(auth.users.c.id.in_(others)).values(is_active=False))
    try:
        role_tag = {"If-Match": last.get(f"/api/v1/roles/{name}").headers["ETag"]}
        r = last.patch(f"/api/v1/roles/{name}", json={"permissions": ["parties:read"]}, headers=role_tag)
        assert r.status_code == 409 and r.json["title"] == "Last administrator"
        assert last.delete(f"/api/v1/roles/{name}").status_code == 409
        user_tag = {"If-Match": last.get(f"/api/v1/users/{last.user['id']}").headers["ETag"]}
        assert last.patch(f"/api/v1/users/{last.user['id']}", json={"is_active": False},
                          headers=user_tag).status_code == 409
        assert last.get("/api/v1/users").status_code == 200  # still in charge
    finally:
        with app.extensions["crm.db"].sessions.begin() as s:
            s.execute(update(auth.users).where(auth.users.c.id.in_(others)).values(is_active=True))


def test_users_and_roles_change_only_with_if_match_and_say_what_is_wrong(as_user):
    admin = as_user("admin")
    other, target = as_user("sales_rep").user, as_user("sales_rep").user
    url = f"/api/v1/users/{target['id']}"
    tag = {"If-Match": admin.get(url).headers["ETag"]}
    taken = admin.patch(url, json={"email": other["email"].upper()}, headers=tag)
    assert taken.status_code == 409 and taken.json["errors"][0]["field"] == "email"
    assert admin.patch(url, json={}, headers=tag).status_code == 422  # nothing to change
    renamed = admin.patch(url, json={"name": "Renamed"}, headers=tag)
    assert renamed.status_code == 200 and renamed.headers["ETag"] != tag["If-Match"]
    assert admin.patch(url, json={"name": "Lost update"}, headers=tag).status_code == 412  # stale ETag
    assert admin.get(url).json["name"] == "Renamed"
    name = f"reader_{uuid.uuid4().hex[:6]}"
    assert admin.post("/api/v1/roles", json={"name": name, "permissions": ["parties:read"]}).status_code == 201
    role_url = f"/api/v1/roles/{name}"
    empty = admin.patch(role_url, json={}, headers={"If-Match": admin.get(role_url).headers["ETag"]})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "(body)"
    assert admin.patch(role_url, json={"description": "x"}).status_code == 428
    assert admin.get(role_url).json["description"] != "x"


def test_changes_to_roles_users_and_tokens_through_the_api_count_at_once(as_user):
    """The web process reuses a token's principal for a few seconds; the process that changes roles, users or
    tokens forgets them at once, so its own next request already sees the change."""
    admin = as_user("admin")
    name = f"reader_{uuid.uuid4().hex[:6]}"
    assert admin.post("/api/v1/roles", json={"name": name, "permissions": ["parties:read"]}).status_code == 201
    reader = as_user(name)
    assert reader.get("/api/v1/parties").status_code == 200  # now cached
    tag = {"If-Match": admin.get(f"/api/v1/roles/{name}").headers["ETag"]}
    assert admin.patch(f"/api/v1/roles/{name}", json={"permissions": ["deals:read"]}, headers=tag).status_code == 200
    assert reader.get("/api/v1/parties").status_code == 403
    user_url = f"/api/v1/users/{reader.user['id']}"
    off = admin.patch(user_url, json={"is_active": False}, headers={"If-Match": admin.get(user_url).headers["ETag"]})
    assert off.status_code == 200
    assert reader.get("/api/v1/deals").status_code == 401
