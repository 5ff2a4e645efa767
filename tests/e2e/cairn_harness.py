"""End-to-end test harness (helpers; fixtures are in conftest.py): starts a real `cairn serve` and drives it with the aws CLI and boto3.

Every test talks to a server process started from `.build/release/cairn` (built once per session when missing, or
always with CAIRN_E2E_BUILD=1) on a free loopback port, with a fresh data directory and the identities file below.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
# The suite runs `.build/release/cairn`; CAIRN_BIN (or CAIRN_E2E_BINARY) points it at another build, e.g. the debug
# binary scripts/test has just built.
_OVERRIDE = os.environ.get("CAIRN_BIN") or os.environ.get("CAIRN_E2E_BINARY")
BINARY = Path(_OVERRIDE) if _OVERRIDE else REPO / ".build" / "release" / "cairn"

# Keep the developer's own AWS configuration out of every client this suite creates.
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = "/nonexistent/cairn-e2e-config"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/cairn-e2e-credentials"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

# --------------------------------------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------------------------------------

ACCOUNT_A = "111111111111"  # has an alias, root keys, two users, a local role
ACCOUNT_B = "222222222222"  # root keys, a user, a role trusted by account A
ACCOUNT_C = "333333333333"  # an untrusted outsider
ALIAS_A = "alpha-corp"


@dataclasses.dataclass(frozen=True)
class Creds:
    access_key: str
    secret_key: str
    session_token: str | None = None


def _key_id(prefix: str = "AKIA") -> str:
    alphabet = string.ascii_uppercase + "234567"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(16))


def _secret() -> str:
    # 40 characters like a real secret, random per session so any leak is detectable by exact match.
    return secrets.token_urlsafe(30)[:40]


@dataclasses.dataclass
class Identities:
    a_root: Creds
    a_alice: Creds  # IAM user alice, path /
    a_bob: Creds  # IAM user bob, path /engineering/
    a_lookup: Creds  # IAM user used only to run look-ups, so its own calls stay out of filtered results
    a_load: Creds  # IAM user used by the load / kill -9 tests
    b_root: Creds
    b_carol: Creds
    c_mallory: Creds

    def document(self) -> dict[str, Any]:
        def key(c: Creds) -> dict[str, str]:
            return {"accessKeyId": c.access_key, "secretAccessKey": c.secret_key}

        return {
            "accounts": [
                {
                    "id": ACCOUNT_A,
                    "alias": ALIAS_A,
                    "rootAccessKeys": [key(self.a_root)],
                    "users": [
                        {"name": "alice", "path": "/", "accessKeys": [key(self.a_alice)]},
                        {"name": "bob", "path": "/engineering/", "accessKeys": [key(self.a_bob)]},
                        {"name": "lookup", "path": "/", "accessKeys": [key(self.a_lookup)]},
                        {"name": "loader", "path": "/", "accessKeys": [key(self.a_load)]},
                    ],
                    "roles": [{"name": "LocalAdmin", "path": "/", "trustedAccounts": []}],
                },
                {
                    "id": ACCOUNT_B,
                    "rootAccessKeys": [key(self.b_root)],
                    "users": [{"name": "carol", "path": "/", "accessKeys": [key(self.b_carol)]}],
                    "roles": [{"name": "Auditor", "path": "/", "trustedAccounts": [ACCOUNT_A]}],
                },
                {
                    "id": ACCOUNT_C,
                    "users": [{"name": "mallory", "path": "/", "accessKeys": [key(self.c_mallory)]}],
                    "roles": [],
                },
            ]
        }

def make_identities() -> Identities:
    return Identities(
        a_root=Creds(_key_id(), _secret()),
        a_alice=Creds(_key_id(), _secret()),
        a_bob=Creds(_key_id(), _secret()),
        a_lookup=Creds(_key_id(), _secret()),
        a_load=Creds(_key_id(), _secret()),
        b_root=Creds(_key_id(), _secret()),
        b_carol=Creds(_key_id(), _secret()),
        c_mallory=Creds(_key_id(), _secret()),
    )


def to_yaml(doc: Any, indent: int = 0) -> str:
    """A tiny YAML emitter (block style) so the YAML variant does not depend on PyYAML being installed."""
    pad = "  " * indent
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {json.dumps(v)}")
    elif isinstance(doc, list):
        for item in doc:
            if isinstance(item, dict) and item:
                inner = to_yaml(item, indent + 1).split("\n")
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {json.dumps(item)}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------
# The binary
# --------------------------------------------------------------------------------------------------------------------

_built = False


def ensure_binary() -> Path:
    global _built
    if _built:
        return BINARY
    if not _OVERRIDE and (os.environ.get("CAIRN_E2E_BUILD") == "1" or not BINARY.exists()):
        for attempt in range(40):
            proc = subprocess.run(
                ["swift", "build", "-c", "release", "--product", "cairn"],
                cwd=REPO, capture_output=True, text=True,
            )
            if proc.returncode == 0:
                break
            if "Another instance of SwiftPM" in proc.stderr + proc.stdout and attempt < 39:
                time.sleep(15)
                continue
            pytest.exit(f"swift build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}", returncode=3)
    assert BINARY.exists(), f"{BINARY} missing after build"
    _built = True
    return BINARY


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------------------------------
# Server handle
# --------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class CliResult:
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None

    def error_code(self) -> str | None:
        # aws CLI v1: "An error occurred (Code) when calling the Op operation: message"
        marker = "An error occurred ("
        i = self.stderr.find(marker)
        if i < 0:
            return None
        j = self.stderr.find(")", i)
        return self.stderr[i + len(marker):j]


class CairnServer:
    """One `cairn serve` process over a data directory, restartable on the same directory."""

    def __init__(self, data_dir: Path, identities_path: Path, ids: Identities, extra_args: list[str] | None = None):
        self.binary = ensure_binary()
        self.data_dir = data_dir
        self.identities_path = identities_path
        self.ids = ids
        self.extra_args = extra_args or ["--resource-policy-checks", "off"]
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        self._log = None

    @classmethod
    def attached(cls, port: int, proc: subprocess.Popen, log_path: Path) -> "CairnServer":
        """A handle on a server process started elsewhere (for tests of flags and environment variables)."""
        srv = cls.__new__(cls)
        srv.port, srv.proc, srv.log_path, srv._log = port, proc, log_path, None
        return srv

    # -- life cycle ----------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "CairnServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._log = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--identities", str(self.identities_path), *self.extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=str(self.data_dir.parent),
        )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cairn exited with {self.proc.returncode} before healthy:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_cairn/health", timeout=1) as r:
                    body = json.loads(r.read())
                    if r.status == 200 and body.get("status") == "ok":
                        return
                    last = body
            except (OSError, ValueError) as e:  # connection refused until it listens
                last = e
            time.sleep(0.02)
        raise AssertionError(f"cairn not healthy within {timeout}s (last: {last!r}):\n{self.log_text()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"cairn did not exit within {timeout}s of SIGTERM")
        self._close_log()
        return self.proc.returncode

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_log()

    def restart(self) -> None:
        rc = self.stop()
        assert rc == 0, f"cairn exited {rc} on SIGTERM"
        self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def flush(self) -> None:
        """POST /_cairn/flush: pending deliveries are written, and every recorded event is in the event tables."""
        req = urllib.request.Request(self.url + "/_cairn/flush", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 200

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- clients -------------------------------------------------------------------------------------------------
    def client(self, service: str, creds: Creds, region: str = "us-east-1", **config: Any):
        cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, **config)
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.session_token, region_name=region,
        )
        return session.client(service, endpoint_url=self.url, config=cfg)

    def aws(self, *args: str, creds: Creds, region: str = "us-east-1", timeout: float = 60) -> CliResult:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID=creds.access_key,
            AWS_SECRET_ACCESS_KEY=creds.secret_key,
            AWS_DEFAULT_REGION=region,
            AWS_CONFIG_FILE="/nonexistent/cairn-e2e-config",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent/cairn-e2e-credentials",
            AWS_MAX_ATTEMPTS="1",
            AWS_RETRY_MODE="standard",
            AWS_PAGER="",
        )
        if creds.session_token:
            env["AWS_SESSION_TOKEN"] = creds.session_token
        proc = subprocess.run(["aws", *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=timeout)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def aws_ok(self, *args: str, **kw: Any) -> Any:
        r = self.aws(*args, **kw)
        assert r.rc == 0, f"aws {' '.join(args)} failed rc={r.rc}: {r.stderr}"
        return r.json

    # -- raw requests ----------------------------------------------------------------------------------------------
    def signed_request(
        self, creds: Creds | None, *, service: str, region: str = "us-east-1", method: str = "POST", path: str = "/",
        body: bytes = b"", headers: dict[str, str] | None = None, timestamp: "datetime.datetime | None" = None,
    ):
        """Signs (SigV4 header) and sends a request; returns the `requests.Response`."""
        import datetime
        from unittest import mock

        import requests

        req = botocore.awsrequest.AWSRequest(method=method, url=self.url + path, data=body, headers=dict(headers or {}))
        if creds is not None:
            signer = botocore.auth.SigV4Auth(
                botocore.credentials.Credentials(creds.access_key, creds.secret_key, creds.session_token), service, region)
            if timestamp is not None:
                with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: timestamp.replace(tzinfo=None)):
                    signer.add_auth(req)
            else:
                signer.add_auth(req)
        prepared = req.prepare()
        return requests.request(method, prepared.url, data=body, headers=dict(prepared.headers), timeout=30)

    def cloudtrail_raw(self, creds: Creds, operation: str, body: bytes, region: str = "us-east-1", **kw: Any):
        return self.signed_request(
            creds, service="cloudtrail", region=region, body=body,
            headers={"X-Amz-Target": f"{TARGET_PREFIX}.{operation}", "Content-Type": "application/x-amz-json-1.1"}, **kw)


# --------------------------------------------------------------------------------------------------------------------
# Event helpers
# --------------------------------------------------------------------------------------------------------------------


def lookup_all(ct, **params: Any) -> list[dict]:
    """Every event LookupEvents returns for `params`, following NextToken manually."""
    events: list[dict] = []
    token = None
    for _ in range(10_000):
        kw = dict(params)
        if token:
            kw["NextToken"] = token
        page = ct.lookup_events(**kw)
        events.extend(page["Events"])
        token = page.get("NextToken")
        if not token:
            return events
    raise AssertionError("pagination did not end")


def records(events: list[dict]) -> list[dict]:
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def find_by_request_id(ct, event_name: str, request_id: str) -> dict:
    """The record of the event with this requestID (looked up by EventName)."""
    matches = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}]))
               if r["requestID"] == request_id]
    assert len(matches) == 1, f"expected exactly one {event_name} event with requestID {request_id}, found {len(matches)}"
    return matches[0]


def wait_next_second() -> None:
    """Waits until the wall-clock second changes (events have second precision)."""
    now = int(time.time())
    while int(time.time()) == now:
        time.sleep(0.01)


def all_secret_strings(ids: Identities, extra: list[str] = ()) -> list[str]:
    out = [c.secret_key for c in vars(ids).values()]
    out.extend(s for s in extra if s)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Assertion helpers
# --------------------------------------------------------------------------------------------------------------------


def expect_error(call, code: str, status: int | None = None, **kwargs: Any):
    """Runs `call(**kwargs)`, asserts it fails with AWS error `code` (and HTTP `status`), returns the ClientError."""
    from botocore.exceptions import ClientError

    try:
        result = call(**kwargs)
    except ClientError as e:
        got = e.response.get("Error", {}).get("Code")
        assert got == code, f"expected {code}, got {got}: {e.response.get('Error')}"
        if status is not None:
            got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert got_status == status, f"{code}: expected HTTP {status}, got {got_status}"
        return e
    raise AssertionError(f"expected {code}, but the call succeeded: {result!r}")


def capture_user_agent(client) -> list[str]:
    """Records the User-Agent header of every request the client sends (the exact string on the wire)."""
    sent: list[str] = []

    def hook(request, **_):
        ua = request.headers.get("User-Agent")
        sent.append(ua.decode() if isinstance(ua, bytes) else ua)

    client.meta.events.register("before-send", hook)
    return sent


def ensure_bucket(server: "CairnServer", creds: Creds, bucket: str, region: str = "us-east-1") -> None:
    """Creates the S3 bucket a trail points at, with a policy that lets CloudTrail deliver to any prefix in it."""
    from botocore.exceptions import ClientError

    s3 = server.client("s3", creds, region=region, s3={"addressing_style": "path"})
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as e:
        if e.response["Error"]["Code"] == "BucketAlreadyExists":
            return  # another account's bucket: its owner set the policy
        if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_bucket_policy(bucket, "*")))


def cloudtrail_bucket_policy(bucket: str, objects: str) -> dict:
    """The bucket policy CloudTrail's documentation gives, for log files under `arn:aws:s3:::<bucket>/<objects>`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{objects}",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        ],
    }


def strip_meta(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def lower_camel(value: Any) -> Any:
    """AWS output member names as CloudTrail writes them in requestParameters / responseElements."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: lower_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_camel(v) for v in value]
    return value
