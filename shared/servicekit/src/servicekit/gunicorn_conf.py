"""gunicorn settings of both services' web process (`crm web`, `erp web`): what gunicorn refuses itself, before the
app sees the request (a request line over 8190 bytes, headers too large, a malformed request), is answered in
problem+json like every other error, not in gunicorn's HTML page."""

import json

from gunicorn import util


def _problem(sock, status_int, reason, mesg):
    body = json.dumps({"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


# gunicorn's workers call util.write_error for their own refusals; this module is loaded before they fork
util.write_error = _problem
