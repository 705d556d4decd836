"""Reading received mail (crm.mail.message), no I/O: what a support agent would otherwise see wrong — quoted
history repeated on every reply, a script in an HTML mail, an out-of-office reply opening a ticket, or a broken
message crashing the endpoint instead of being refused."""

from email import message_from_string

import pytest
from crm.mail.message import Rejected, auto_reply_reason, html_to_text, message_ids, parse, sanitize_html, strip_quoted


def raw(headers: str, body: str = "Hello") -> bytes:
    return (headers.strip() + "\n\n" + body).replace("\n", "\r\n").encode()


def test_a_plain_message_is_read_with_its_thread_headers():
    m = parse(raw("From: Ana Diaz <Ana@Example.COM>\nTo: support@crm.localhost\nSubject: Re:  printer\n"
                  "Message-ID: <m2@example.com>\nIn-Reply-To: <m1@crm.localhost>\n"
                  "References: <m0@x> <m1@crm.localhost>"), 10_000)
    assert (m.sender, m.sender_name, m.subject, m.message_id) == ("ana@example.com", "Ana Diaz", "Re: printer",
                                                                   "m2@example.com")
    assert m.thread_ids == ["m1@crm.localhost", "m0@x"] and m.text.strip() == "Hello" and m.auto_reply is None


@pytest.mark.parametrize("headers,why", [
    ("Auto-Submitted: auto-replied", "Auto-Submitted"),
    ("Auto-Submitted: auto-generated", "Auto-Submitted"),
    ("Precedence: bulk", "Precedence"),
    ("Precedence: junk", "Precedence"),
    ("X-Autoreply: yes", "X-Autoreply"),
    ("List-Id: <news.example.com>", "List-Id"),
])
def test_automatic_messages_are_recognised(headers, why):
    msg = message_from_string(f"From: a@example.com\n{headers}\nSubject: Out of office\n\nAway")
    assert why in auto_reply_reason(msg)


def test_a_person_s_message_and_auto_submitted_no_are_not_automatic():
    assert auto_reply_reason(message_from_string("From: a@example.com\nAuto-Submitted: no\n\nHi")) is None
    assert "mailer-daemon" in auto_reply_reason(message_from_string("From: MAILER-DAEMON@mx.example\n\nHi"))


def test_quoted_history_and_signatures_are_stripped():
    gmail = "Thanks, it works now.\n\nOn Mon, 7 Dec 2026 at 10:00, Support <support@crm.localhost>\nwrote:\n> old"
    assert strip_quoted(gmail) == "Thanks, it works now."
    assert strip_quoted("New line\n> quoted\n>> older\nmore") == "New line\nmore"
    outlook = "Still broken.\n\nFrom: Support <support@crm.localhost>\nSent: Monday\nTo: Ana\nSubject: x\n\nold"
    assert strip_quoted(outlook) == "Still broken."
    assert strip_quoted("Hi\n-----Original Message-----\nold") == "Hi"
    assert strip_quoted("Hi there\n-- \nAna Diaz\nACME") == "Hi there"
    assert strip_quoted("> only a quote") == "> only a quote"  # nothing of their own: keep what came


def test_html_is_sanitised_and_gives_a_text_fallback():
    dirty = ('<p onclick="x()">Hello <b>there</b><script>alert(1)</script></p>'
             '<a href="javascript:evil()">x</a><a href="https://ok.example">ok</a><img src="http://t.example/p.gif">')
    clean = sanitize_html(dirty)
    assert "script" not in clean and "onclick" not in clean and "javascript" not in clean and "<img" not in clean
    assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in clean
    assert html_to_text("<html><head><style>p{}</style></head><p>One</p><p>Two &amp; three</p>") == \
        "One\n\nTwo & three"
    m = parse(raw("From: a@example.com\nContent-Type: text/html; charset=utf-8",
                  "<p>Broken <script>x</script>screen</p>"), 10_000)
    assert m.text == "Broken screen" and "<script" not in m.html


@pytest.mark.parametrize("message,why", [
    (b"just some text without any header\r\n", "no header block"),
    (raw("Subject: nobody\nTo: support@crm.localhost"), "no sender"),
    (raw("From: a@example.com\nContent-Type: text/plain; charset=x-no-such-charset"), "charset"),
    (raw("From: a@example.com\nContent-Type: text/plain; charset=utf-8").replace(b"Hello", b"caf\xe9 \xff"), "utf-8"),
])
def test_malformed_messages_are_rejected_not_crashing(message, why):
    with pytest.raises(Rejected) as refused:
        parse(message, 10_000)
    assert why in refused.value.reason and refused.value.answer().startswith("5")


def test_a_message_over_the_limit_is_rejected_before_it_is_read():
    with pytest.raises(Rejected) as refused:
        parse(raw("From: a@example.com", "x" * 2000), 1000)
    assert refused.value.answer().startswith("552")


def test_message_ids_are_read_from_a_header():
    assert message_ids("<a@x>\r\n <b@y> junk <c@z>") == ["a@x", "b@y", "c@z"] and message_ids(None) == []


def test_control_characters_and_stray_8_bit_bytes_never_reach_the_database():
    m = parse(b"From: Jos\xe9 <jose@example.com>\r\nSubject: caf\xe9 \x00menu\r\nMessage-ID: <a\x00b@x>\r\n"
              b"Content-Type: text/plain\r\n\r\nbody\x00 end\r\n", 10_000)
    assert "\x00" not in m.subject + m.text + m.sender_name and m.subject == "caf\ufffd menu"
    assert m.message_id.endswith("@no-message-id")  # an unusable Message-ID: one derived from the bytes
