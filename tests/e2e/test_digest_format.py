"""awscli's own validate-logs code accepts the digest files, signatures and public keys Cairn produces.

Offline check of the digest format (no server): the swift-testing test `DigestFixtureTests` builds, with Cairn's
`SigningKeys`, `DigestFile`, `LogFileName` and the ListPublicKeys handler, three chained digests over three hours
(a starting digest with two log files, an empty one, one signed after a key rotation) and writes them with the
ListPublicKeys wire response to `$CAIRN_DIGEST_FIXTURES`. These tests serve those files to awscli's
`CloudTrailValidateLogs` command (awscli/customizations/cloudtrail/validation.py) through stand-in S3 and CloudTrail
clients, so everything from key listing and digest-key regexes to signature checks and log-file hashes is awscli's
code.

Fixtures: set CAIRN_DIGEST_FIXTURES to a directory already holding them, or leave it unset and the module runs
`swift test --filter DigestFixtureTests` (reusing the debug build) to write them into a temporary directory.
The end-to-end run against `cairn serve` belongs with trail delivery.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import subprocess
from pathlib import Path

import botocore.session
import pytest
import rsa
from botocore.exceptions import ClientError
from botocore.parsers import JSONParser

from awscli.customizations.cloudtrail.validation import (
    CloudTrailValidateLogs,
    DigestProvider,
    DigestSignatureError,
    Sha256RSADigestValidator,
    extract_digest_key_date,
    format_date,
    normalize_date,
    parse_date,
)

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    configured = os.environ.get("CAIRN_DIGEST_FIXTURES")
    out = Path(configured) if configured else tmp_path_factory.mktemp("digest-fixtures")
    if not (out / "manifest.json").exists():
        env = dict(os.environ, CAIRN_DIGEST_FIXTURES=str(out))
        run = subprocess.run(
            ["swift", "test", "--filter", "DigestFixtureTests"], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, f"swift test failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert (out / "manifest.json").exists(), "DigestFixtureTests did not write its fixtures"
    return out


@pytest.fixture
def store(fixtures: Path) -> "FakeS3":
    """A fresh bucket per test, so tests may tamper with objects."""
    return FakeS3.load(fixtures)


@pytest.fixture(scope="module")
def manifest(fixtures: Path) -> dict:
    return json.loads((fixtures / "manifest.json").read_text())


# --------------------------------------------------------------------------------------------------------------------
# Stand-ins for the S3 and CloudTrail clients validate-logs uses
# --------------------------------------------------------------------------------------------------------------------


class FakeS3:
    """One bucket: GetObject (gzip bodies, lower-case user metadata) and ListObjects v1 pagination by key order."""

    def __init__(self, bucket: str, objects: dict[str, tuple[bytes, dict[str, str]]]):
        self.bucket = bucket
        self.objects = objects

    @classmethod
    def load(cls, root: Path) -> "FakeS3":
        manifest = json.loads((root / "manifest.json").read_text())
        objects = {
            entry["key"]: ((root / entry["file"]).read_bytes(), dict(entry["metadata"])) for entry in manifest["objects"]
        }
        return cls(manifest["bucket"], objects)

    # S3ClientProvider interface
    def get_client(self, bucket_name):
        assert bucket_name == self.bucket
        return self

    # client interface
    def get_object(self, Bucket, Key):
        if Bucket != self.bucket or Key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")
        body, metadata = self.objects[Key]
        return {"Body": io.BytesIO(gzip.compress(body, mtime=0)), "Metadata": dict(metadata)}

    def get_paginator(self, name):
        assert name == "list_objects"
        return self

    def paginate(self, Bucket, Marker, Prefix):
        assert Bucket == self.bucket
        keys = sorted((k for k in self.objects if k.startswith(Prefix) and k > Marker), key=lambda k: k.encode())
        return _Pages(keys)


class _Pages:
    def __init__(self, keys):
        self.keys = keys

    def search(self, expression):
        assert expression == "Contents[*].Key"
        return iter(self.keys)


class FakeCloudTrail:
    """DescribeTrails for the trail, ListPublicKeys answered with Cairn's wire response parsed as the CLI parses it."""

    def __init__(self, fixtures: Path, manifest: dict):
        self.manifest = manifest
        self.wire = (fixtures / "list-public-keys.json").read_bytes()
        self.calls = []

    def describe_trails(self):
        m = self.manifest
        return {
            "trailList": [
                {
                    "Name": m["trailName"],
                    "S3BucketName": m["bucket"],
                    "S3KeyPrefix": m["prefix"],
                    "HomeRegion": m["homeRegion"],
                    "TrailARN": m["trailArn"],
                    "LogFileValidationEnabled": True,
                    "IsOrganizationTrail": False,
                }
            ]
        }

    def list_public_keys(self, StartTime, EndTime):
        self.calls.append((StartTime, EndTime))
        return parse_list_public_keys(self.wire)


def parse_list_public_keys(body: bytes) -> dict:
    """Parses a ListPublicKeys response as the aws CLI does: botocore's JSON parser with blobs left as base64 text
    (awscli's scalarparse customization) and timestamps as sent."""
    model = botocore.session.get_session().get_service_model("cloudtrail")
    shape = model.operation_model("ListPublicKeys").output_shape
    parser = JSONParser(timestamp_parser=lambda x: x, blob_parser=lambda x: x)
    return parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)


def run_validate_logs(fixtures: Path, manifest: dict, s3: FakeS3, capsys, start=None, end=None):
    """Runs awscli's CloudTrailValidateLogs command logic with stand-in clients; returns (command, stdout, stderr)."""
    command = CloudTrailValidateLogs(botocore.session.get_session())
    args = argparse.Namespace(
        trail_arn=manifest["trailArn"],
        start_time=start or manifest["startTime"],
        end_time=end or manifest["endTime"],
        s3_bucket=None,
        s3_prefix=None,
        account_id=None,
        verbose=True,
    )
    command.handle_args(args)
    command._source_region = manifest["region"]
    command.s3_client_provider = s3
    command.cloudtrail_client = FakeCloudTrail(fixtures, manifest)
    command.organization_client = None
    command._call()
    out = capsys.readouterr()
    return command, out.out, out.err


def public_keys(fixtures: Path) -> dict[str, dict]:
    return {k["Fingerprint"]: k for k in parse_list_public_keys((fixtures / "list-public-keys.json").read_bytes())["PublicKeyList"]}


def digest_of(s3: FakeS3, key: str) -> tuple[dict, bytes, dict]:
    body, metadata = s3.objects[key]
    return json.loads(body), body, metadata


# --------------------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------------------


def test_validate_logs_accepts_the_whole_chain(fixtures, manifest, store, capsys):
    command, out, err = run_validate_logs(fixtures, manifest, store, capsys)
    assert err == ""
    assert command._invalid_digests == 0 and command._invalid_logs == 0, out
    assert command._valid_digests == 3, out
    assert command._valid_logs == 3, out
    assert "3/3 digest files valid" in out
    assert "3/3 log files valid" in out
    assert "No log files were delivered" not in out  # the chain is unbroken
    # validate-logs asked for exactly the range the fixture's ListPublicKeys answer was made for.
    (start, end), = command.cloudtrail_client.calls
    assert [int(start.timestamp()), int(end.timestamp())] == manifest["listPublicKeysRange"]


def test_each_digest_verifies_with_awscli_sha256rsa_validator(fixtures, manifest, store):
    keys = public_keys(fixtures)
    assert len(keys) == 2  # the chain crosses a key rotation
    for key in manifest["digests"]:
        data, body, metadata = digest_of(store, key)
        assert metadata["signature-algorithm"] == "SHA256withRSA"
        data["_signature"] = metadata["signature"]
        data["_signature_algorithm"] = metadata["signature-algorithm"]
        Sha256RSADigestValidator().validate(store.bucket, key, keys[data["digestPublicKeyFingerprint"]]["Value"], data, body)


def test_public_keys_are_pkcs1_der_with_md5_fingerprints(fixtures):
    for fingerprint, entry in public_keys(fixtures).items():
        der = base64.b64decode(entry["Value"])
        key = rsa.PublicKey.load_pkcs1(der, format="DER")
        assert key.n.bit_length() == 2048
        assert hashlib.md5(der).hexdigest() == fingerprint
        assert entry["ValidityEndTime"] - entry["ValidityStartTime"] == 5400  # the fixture's rotation period


def test_digest_keys_match_awscli_pattern_and_dates(manifest, store):
    provider = DigestProvider(
        s3_client_provider=store,
        account_id=manifest["accountId"],
        trail_name=manifest["trailName"],
        trail_home_region=manifest["homeRegion"],
        trail_source_region=manifest["region"],
    )
    import re

    regex = re.compile(provider._create_digest_key_regex(manifest["prefix"]))
    for key in manifest["digests"]:
        assert regex.match(key), key
        data, _, _ = digest_of(store, key)
        assert extract_digest_key_date(key) == format_date(normalize_date(parse_date(data["digestEndTime"])))
    standard, backfill = provider.load_all_digest_keys_in_range(
        store.bucket,
        manifest["prefix"],
        normalize_date(parse_date(manifest["startTime"])),
        normalize_date(parse_date(manifest["endTime"])),
    )
    assert standard == manifest["digests"] and backfill == []


def test_digest_contents(manifest, store):
    first, second, third = (digest_of(store, key)[0] for key in manifest["digests"])
    # A starting digest: every previous-digest member present and null.
    for name in ("previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
                 "previousDigestHashAlgorithm", "previousDigestSignature"):
        assert name in first and first[name] is None
    assert len(first["logFiles"]) == 2
    # An empty window: no log files, null event times, chained to the first digest.
    assert second["logFiles"] == [] and second["newestEventTime"] is None and second["oldestEventTime"] is None
    first_body, first_meta = store.objects[manifest["digests"][0]]
    assert second["previousDigestS3Object"] == manifest["digests"][0]
    assert second["previousDigestHashValue"] == hashlib.sha256(first_body).hexdigest()
    assert second["previousDigestHashAlgorithm"] == "SHA-256"
    assert second["previousDigestSignature"] == first_meta["signature"]
    # The third digest was signed by the rotated key.
    assert third["digestPublicKeyFingerprint"] != second["digestPublicKeyFingerprint"]
    assert list(third) == [
        "awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
        "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
        "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
        "previousDigestSignature", "logFiles",
    ]


def test_tampered_digest_fails_signature(fixtures, manifest, store):
    key = manifest["digests"][1]
    data, body, metadata = digest_of(store, key)
    tampered = body.replace(b'"logFiles":[]', b'"logFiles": []')
    assert tampered != body
    data["_signature"] = metadata["signature"]
    data["_signature_algorithm"] = metadata["signature-algorithm"]
    with pytest.raises(DigestSignatureError):
        Sha256RSADigestValidator().validate(
            store.bucket, key, public_keys(fixtures)[data["digestPublicKeyFingerprint"]]["Value"], data, tampered
        )


def test_validate_logs_reports_a_modified_log_file(fixtures, manifest, store, capsys):
    log_key = next(e["key"] for e in manifest["objects"] if "/CloudTrail/" in e["key"])
    body, metadata = store.objects[log_key]
    store.objects[log_key] = (body + b"\n", metadata)
    command, out, err = run_validate_logs(fixtures, manifest, store, capsys)
    assert command._invalid_logs == 1 and command._valid_logs == 2
    assert command._valid_digests == 3
    assert "hash value doesn't match" in err


def test_validate_logs_reports_a_deleted_digest(fixtures, manifest, store, capsys):
    del store.objects[manifest["digests"][1]]
    command, out, err = run_validate_logs(fixtures, manifest, store, capsys)
    assert command._invalid_digests == 1
    assert command._valid_digests == 2
    assert "INVALID: not found" in err
