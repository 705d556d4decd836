"""What gunicorn refuses before the app sees the request is still a problem+json answer (schemathesis found its
HTML 414 for a query string longer than gunicorn reads)."""

import socket

import pytest
import requests

pytestmark = pytest.mark.integration


def test_a_request_line_too_long_for_gunicorn_is_a_problem_json_414(stack):
    r = requests.get(f"{stack.crm}/api/v1/me/notifications", params={"page": "1" * 9000},
                     headers=stack.crm_http.headers, timeout=10)
    assert r.status_code == 414 and r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 414 and "too large" in r.json()["detail"]


def test_a_malformed_request_is_a_problem_json_400(stack):
    host, port = stack.env["ERP_BIND"].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /api/v1/company HTTP/9.9\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/problem+json" in head
    assert b'"status": 400' in body
