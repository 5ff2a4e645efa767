"""Bad input: the AWS error of the protocol, never a crash, and other clients are not held up."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from cairn_harness import ACCOUNT_A, TARGET_PREFIX

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def json_error_type(resp) -> str:
    body = resp.json()
    return body["__type"].split("#")[-1].split(":")[0]


def assert_alive(server, ids) -> None:
    r = server.client("sts", ids.a_alice).get_caller_identity()
    assert r["Account"] == ACCOUNT_A


@pytest.mark.parametrize("body", [b'{"Name": ', b"not json at all", b"[1, 2", b'{"Name": "x"} trailing', b"\xff\xfe{}"])
def test_malformed_json_body(server, ids, body):
    resp = server.cloudtrail_raw(ids.a_alice, "GetTrail", body)
    assert resp.status_code == 400, resp.text
    assert json_error_type(resp) == "SerializationException", resp.text
    assert resp.headers.get("x-amzn-RequestId")
    assert_alive(server, ids)


@pytest.mark.parametrize("body", [b'{"Name": 5}', b'{"Name": ["a"]}', b'{"trailNameList": "x"}', b'"just a string"'])
def test_wrongly_typed_json(server, ids, body):
    op = "DescribeTrails" if b"trailNameList" in body else "GetTrail"
    resp = server.cloudtrail_raw(ids.a_alice, op, body)
    assert resp.status_code == 400, resp.text
    assert json_error_type(resp) == "SerializationException", resp.text


def test_empty_body_is_an_empty_input(server, ids):
    resp = server.cloudtrail_raw(ids.a_alice, "DescribeTrails", b"")
    assert resp.status_code == 200, resp.text
    assert "trailList" in resp.json()


def test_unknown_target_operation(server, ids):
    resp = server.cloudtrail_raw(ids.a_alice, "FrobnicateTrail", b"{}")
    assert resp.status_code == 400, resp.text
    assert json_error_type(resp) == "UnknownOperationException", resp.text
    resp = server.signed_request(ids.a_alice, service="cloudtrail", body=b"{}", headers={
        "X-Amz-Target": "com.example.NoSuchService_2020.DoThing", "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400, resp.text
    assert json_error_type(resp) == "UnknownOperationException", resp.text


def test_wrong_content_type_json(server, ids):
    resp = server.signed_request(ids.a_alice, service="cloudtrail", body=b"{}", headers={
        "X-Amz-Target": f"{TARGET_PREFIX}.DescribeTrails", "Content-Type": "text/plain"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["__type"], resp.text
    assert_alive(server, ids)


def test_sts_unknown_action(server, ids):
    resp = server.signed_request(ids.a_alice, service="sts", body=b"Action=FrobnicateRole&Version=2011-06-15",
                                 headers=FORM)
    assert resp.status_code == 400, resp.text
    assert "<Code>InvalidAction</Code>" in resp.text, resp.text
    assert "<ErrorResponse" in resp.text and "<RequestId>" in resp.text
    resp = server.signed_request(ids.a_alice, service="sts", body=b"Version=2011-06-15", headers=FORM)
    assert resp.status_code == 400, resp.text
    assert "<Code>InvalidAction</Code>" in resp.text or "<Code>MissingAction</Code>" in resp.text, resp.text


def test_sts_missing_required_parameter(server, ids):
    resp = server.signed_request(ids.a_alice, service="sts",
                                 body=b"Action=AssumeRole&Version=2011-06-15&RoleSessionName=abc", headers=FORM)
    assert resp.status_code == 400, resp.text
    assert "<Code>ValidationError</Code>" in resp.text or "<Code>MissingParameter</Code>" in resp.text, resp.text


def _raw_http(port: int, head: bytes, body: bytes, timeout: float = 20.0) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(head)
            view = memoryview(body)
            while view:
                n = s.send(view[:65536])
                view = view[n:]
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    headers, _, rest = data.partition(b"\r\n\r\n")
                    length = [l for l in headers.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(rest) >= int(length[0].split(b":")[1]):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
        return data
    finally:
        s.close()


def test_oversized_body_rejected_and_server_keeps_serving(server, ids):
    body = b"{" + b'"Name": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/x-amz-json-1.1\r\n"
            f"X-Amz-Target: {TARGET_PREFIX}.GetTrail\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    reply = _raw_http(server.port, head, body)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    # Others are served normally, also while a big upload is in progress elsewhere.
    assert_alive(server, ids)
    # A signed oversized request through requests gets the same answer.
    import requests
    try:
        resp = server.cloudtrail_raw(ids.a_alice, "GetTrail", body)
        assert resp.status_code == 413, resp.status_code
    except requests.exceptions.ConnectionError:
        pass  # closed while still uploading: acceptable, the raw check above saw the 413
    assert_alive(server, ids)


def test_half_open_and_slow_connections_do_not_block_others(server, ids):
    idle = []
    try:
        for i in range(40):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if i % 3 == 0:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                          b"X-Amz-Target: " + TARGET_PREFIX.encode() + b".DescribeTrails\r\n\r\n{\"trai")
            elif i % 3 == 1:
                s.sendall(b"GET /_cairn/hea")
            idle.append(s)
        # A slow-loris writer dribbling bytes in the background.
        stop = threading.Event()

        def dribble():
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            idle.append(s)
            msg = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 1000
            for b in msg:
                if stop.is_set():
                    return
                try:
                    s.send(bytes([b]))
                except OSError:
                    return
                time.sleep(0.01)

        t = threading.Thread(target=dribble, daemon=True)
        t.start()
        t0 = time.monotonic()
        for _ in range(20):
            assert_alive(server, ids)
            server.client("cloudtrail", ids.a_alice).describe_trails()
        elapsed = time.monotonic() - t0
        assert elapsed < 10, f"40 calls took {elapsed:.1f}s with idle connections open"
        stop.set()
    finally:
        for s in idle:
            s.close()
    assert_alive(server, ids)


def test_garbage_http_does_not_crash(server, ids):
    for junk in (b"\x00\x01\x02\x03garbage\r\n\r\n", b"GET\r\n\r\n", b"POST / HTTP/9.9\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            s.sendall(junk)
            try:
                s.recv(1024)
            except (ConnectionResetError, socket.timeout):
                pass
        finally:
            s.close()
    assert server.proc.poll() is None
    assert_alive(server, ids)


def test_cairn_endpoints(server):
    import json
    import urllib.request

    with urllib.request.urlopen(server.url + "/_cairn/health", timeout=5) as r:
        assert r.status == 200
        assert json.loads(r.read())["status"] == "ok"
    req = urllib.request.Request(server.url + "/_cairn/flush", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


@pytest.mark.parametrize("body,version", [
    (b"Action=GetCallerIdentity&Version=2099-01-01", "2099-01-01"),
    (b"Action=GetCallerIdentity", "NO_VERSION_SPECIFIED"),
])
def test_sts_wrong_or_missing_version(server, ids, body, version):
    """Query APIs resolve the operation by Action and Version: an unknown version names no operation."""
    resp = server.signed_request(ids.a_alice, service="sts", body=body, headers=FORM)
    assert resp.status_code == 400, resp.text
    assert "<Code>InvalidAction</Code>" in resp.text, resp.text
    assert f"Could not find operation GetCallerIdentity for version {version}" in resp.text, resp.text


def test_sts_malformed_form_body(server, ids):
    resp = server.signed_request(ids.a_alice, service="sts", body=b"%zz=1&Action=GetCallerIdentity&Version=2011-06-15",
                                 headers=FORM)
    assert resp.status_code == 400, resp.text
    assert "<ErrorResponse" in resp.text and "<Code>" in resp.text
    assert_alive(server, ids)
