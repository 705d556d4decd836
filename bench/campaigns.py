"""Campaign figures: messages per second from one worker's campaign sender to a local aiosmtpd sink, its CPU
seconds per 1,000 messages and its peak RSS for campaigns of two sizes (it must stay flat: recipients are
streamed from the ledger, never loaded whole), and the evaluation time of a segment over N people.

    CAMPAIGN_BENCH_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:54329/campaign_bench \\
        .local/venv/bin/python bench/campaigns.py [--recipients 20000] [--people 1000000]

The database named is dropped and created. The sender runs in a child process (what is measured is that
process alone); the SMTP sink is another. It prints figures; it asserts nothing.
"""

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"drop database if exists {name} with (force)"))
        c.execute(text(f"create database {name}"))
    admin.dispose()
    from alembic import command
    from servicekit.cli import alembic_config
    command.upgrade(alembic_config(ROOT / "services/crm/src/crm/migrations", url), "head")


def campaign_with_list(engine, recipients: int) -> str:
    """A list of `recipients` addresses on 500 domains and a campaign to it, due now (all in SQL)."""
    list_id, campaign_id, tag = str(uuid.uuid4()), str(uuid.uuid4()), uuid.uuid4().hex[:6]
    with engine.begin() as c:
        c.execute(text("insert into mailing_lists (id, name, version) values (:id, :name, 1)"),
                  {"id": list_id, "name": f"bench {tag}"})
        c.execute(text("insert into email_addresses (email, id, consent, version) select 'r' || i || '-' || :tag "
                       "|| '@d' || (i % 500) || '.example.test', gen_random_uuid(), 'subscribed', 1 "
                       "from generate_series(1, :n) i"), {"tag": tag, "n": recipients})
        c.execute(text("insert into mailing_list_members (list_id, email, name, source) select :list, 'r' || i || "
                       "'-' || :tag || '@d' || (i % 500) || '.example.test', 'Reader ' || i, 'bench' "
                       "from generate_series(1, :n) i"), {"list": list_id, "tag": tag, "n": recipients})
        c.execute(text("insert into campaigns (id, name, subject, html_body, list_id, require_consent, tracking, "
                       "status, scheduled_at, version) values (:id, :name, 'News for {{ recipient.first_name }}', "
                       ":html, :list, false, true, 'scheduled', now(), 1)"),
                  {"id": campaign_id, "name": f"bench {tag}", "list": list_id,
                   "html": "<html><head><style>p { color: #333; }</style></head><body><p>Hello {{ recipient.name "
                           "}},</p><p>Our <a href=\"https://shop.example/news\">news</a>.</p><p><a href=\"{{ "
                           "unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
    return campaign_id


def send(url: str, campaign_id: str, smtp_port: int) -> None:
    """The child: one campaign sender, unthrottled, until the campaign is sent; prints its own figures."""
    from crm.campaigns.sender import CampaignSender, SenderConfig, SmtpSession
    from servicekit.db import make_engine
    engine = make_engine(url)
    sender = CampaignSender(engine, SenderConfig("bench-secret", "https://crm.example", "News <news@crm.example>",
                                                 "bounces.crm.example", rate=1e9, domain_rate=1e9),
                            SmtpSession("127.0.0.1", smtp_port), campaign_ids=[campaign_id])
    sender.start_due()
    start, cpu = time.perf_counter(), time.process_time()
    sent = sender.send_due(10**9)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    sender.finish_done()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sent} {elapsed:.3f} {cpu:.3f} {rss:.1f}", flush=True)


def people(engine, n: int) -> float:
    """n people (countries, roles, owners spread) in SQL; then a segment over them counted: seconds."""
    from crm.campaigns import audiences
    from crm.campaigns.schemas import SegmentFilterSchema
    from sqlalchemy.orm import Session
    with engine.begin() as c:
        c.execute(text("insert into parties (id, kind, display_name, first_name, last_name, roles, emails, phones, "
                       "billing_address, status, version) select gen_random_uuid(), 'person', 'P ' || i, 'P', "
                       "'x' || i, case when i % 3 = 0 then array['customer'] else array['prospect'] end, "
                       "jsonb_build_array(jsonb_build_object('value', 'p' || i || '@x' || (i % 1000) || "
                       "'.example', 'primary', true)), '[]'::jsonb, jsonb_build_object('country', "
                       "(array['PT','ES','FR','DE','IT'])[1 + i % 5]), 'active', 1 from generate_series(1, :n) i"),
                  {"n": n})
        c.execute(text("analyze parties"))
    f = SegmentFilterSchema().load({"roles": ["customer"], "countries": ["PT", "ES"], "has_open_deal": False})
    with Session(engine) as session:
        start = time.perf_counter()
        count = audiences.count(session, audiences.segment_query("parties", f))
        elapsed = time.perf_counter() - start
    print(f"segment over {n:,} people (customers in PT or ES without an open deal): {count:,} addresses "
          f"counted in {elapsed:.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--send", nargs=2, metavar=("CAMPAIGN_ID", "SMTP_PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ["CAMPAIGN_BENCH_DATABASE_URL"]
    if args.send:
        send(url, args.send[0], int(args.send[1]))
        return
    fresh_database(url)
    engine = create_engine(url)
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l",
                             f"127.0.0.1:{port}"])
    try:
        time.sleep(1.0)
        rows = []
        for size in (max(1, args.recipients // 10), args.recipients):
            campaign_id = campaign_with_list(engine, size)
            out = subprocess.run([sys.executable, __file__, "--send", campaign_id, str(port)], env=os.environ,
                                 capture_output=True, text=True, check=True).stdout.split()
            sent, elapsed, cpu, rss = int(out[0]), float(out[1]), float(out[2]), float(out[3])
            rows.append((size, sent, elapsed, cpu, rss))
            print(f"campaign of {size:,}: {sent:,} sent in {elapsed:.1f} s = {sent / elapsed:.0f} messages/s; "
                  f"{cpu / sent * 1000:.2f} CPU s per 1,000; worker peak RSS {rss:.0f} MiB", flush=True)
        small, large = rows
        print(f"peak RSS {small[4]:.0f} MiB for {small[0]:,} recipients, {large[4]:.0f} MiB for {large[0]:,} "
              f"({large[4] - small[4]:+.0f} MiB for {large[0] / small[0]:.0f}x the recipients)")
    finally:
        sink.terminate()
        sink.wait(10)
    if args.people:
        people(engine, args.people)
    engine.dispose()


if __name__ == "__main__":
    main()
