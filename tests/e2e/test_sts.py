"""STS over the Query protocol: GetCallerIdentity, AssumeRole, GetSessionToken, and temporary credentials."""

from __future__ import annotations

import re
import time

import pytest
from botocore.exceptions import ClientError

from cairn_harness import ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, Creds, expect_error

AUDITOR_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/Auditor"
LOCAL_ADMIN_ARN = f"arn:aws:iam::{ACCOUNT_A}:role/LocalAdmin"


def temp_creds(response: dict) -> Creds:
    c = response["Credentials"]
    return Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


# ---------------------------------------------------------------------------------------------------------------------
# GetCallerIdentity
# ---------------------------------------------------------------------------------------------------------------------


def test_get_caller_identity_iam_user_boto3(server, ids):
    sts = server.client("sts", ids.a_alice)
    r = sts.get_caller_identity()
    assert r["Account"] == ACCOUNT_A
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", r["UserId"]), r["UserId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r["ResponseMetadata"]["RequestId"])
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == r["ResponseMetadata"]["RequestId"]


def test_get_caller_identity_user_with_path_and_distinct_ids(server, ids):
    alice = server.client("sts", ids.a_alice).get_caller_identity()
    bob = server.client("sts", ids.a_bob).get_caller_identity()
    carol = server.client("sts", ids.b_carol).get_caller_identity()
    assert bob["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    assert carol["Arn"] == f"arn:aws:iam::{ACCOUNT_B}:user/carol"
    assert carol["Account"] == ACCOUNT_B
    assert len({alice["UserId"], bob["UserId"], carol["UserId"]}) == 3
    # Deterministic: asking again gives the same unique id.
    assert server.client("sts", ids.a_alice).get_caller_identity()["UserId"] == alice["UserId"]


def test_get_caller_identity_iam_user_cli(server, ids):
    out = server.aws_ok("sts", "get-caller-identity", creds=ids.a_alice)
    assert set(out) == {"UserId", "Account", "Arn"}
    assert out["Account"] == ACCOUNT_A
    assert out["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert out["UserId"].startswith("AIDA")


def test_get_caller_identity_root(server, ids):
    for creds, account in ((ids.a_root, ACCOUNT_A), (ids.b_root, ACCOUNT_B)):
        r = server.client("sts", creds).get_caller_identity()
        assert r["Arn"] == f"arn:aws:iam::{account}:root"
        assert r["UserId"] == account
        assert r["Account"] == account
    out = server.aws_ok("sts", "get-caller-identity", creds=ids.a_root)
    assert out == {"UserId": ACCOUNT_A, "Account": ACCOUNT_A, "Arn": f"arn:aws:iam::{ACCOUNT_A}:root"}


def test_get_caller_identity_xml_wire_shape(server, ids):
    """The raw Query response: GetCallerIdentityResponse/GetCallerIdentityResult and ResponseMetadata/RequestId."""
    resp = server.signed_request(
        ids.a_alice, service="sts", body=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/xml")
    body = resp.text
    assert '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' in body
    assert "<GetCallerIdentityResult>" in body
    assert f"<Arn>arn:aws:iam::{ACCOUNT_A}:user/alice</Arn>" in body
    assert f"<Account>{ACCOUNT_A}</Account>" in body
    request_id = resp.headers["x-amzn-RequestId"]
    assert f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>" in re.sub(r">\s+<", "><", body)


# ---------------------------------------------------------------------------------------------------------------------
# AssumeRole
# ---------------------------------------------------------------------------------------------------------------------


def test_assume_role_cross_account_trusted(server, ids):
    sts = server.client("sts", ids.a_alice)
    before = time.time()
    r = sts.assume_role(RoleArn=AUDITOR_ARN, RoleSessionName="audit-session")
    creds = r["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"]), creds["AccessKeyId"]
    assert len(creds["SecretAccessKey"]) >= 30
    assert len(creds["SessionToken"]) >= 30
    # Default duration: one hour.
    expires = creds["Expiration"].timestamp()
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5, (before, expires)
    user = r["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/audit-session"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:audit-session", user["AssumedRoleId"]), user["AssumedRoleId"]

    who = server.client("sts", temp_creds(r)).get_caller_identity()
    assert who["Account"] == ACCOUNT_B
    assert who["Arn"] == user["Arn"]
    assert who["UserId"] == user["AssumedRoleId"]


def test_assume_role_same_account_and_deterministic_role_id(server, ids):
    r1 = server.client("sts", ids.a_alice).assume_role(RoleArn=LOCAL_ADMIN_ARN, RoleSessionName="one")
    r2 = server.client("sts", ids.a_root).assume_role(RoleArn=LOCAL_ADMIN_ARN, RoleSessionName="two")
    role_id1 = r1["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    role_id2 = r2["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    assert role_id1 == role_id2
    assert r1["Credentials"]["AccessKeyId"] != r2["Credentials"]["AccessKeyId"]
    assert r2["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/LocalAdmin/two"


def test_assume_role_cli_and_temporary_credentials_via_cli(server, ids):
    out = server.aws_ok(
        "sts", "assume-role", "--role-arn", AUDITOR_ARN, "--role-session-name", "cli-session",
        "--duration-seconds", "900", creds=ids.a_bob)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/cli-session"
    c = out["Credentials"]
    who = server.aws_ok("sts", "get-caller-identity",
                        creds=Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/cli-session"
    assert who["Account"] == ACCOUNT_B


def test_assume_role_untrusted_caller_access_denied(server, ids):
    # Account C is not trusted by B's Auditor role.
    e = expect_error(server.client("sts", ids.c_mallory).assume_role, "AccessDenied", 403,
                     RoleArn=AUDITOR_ARN, RoleSessionName="nope")
    msg = e.response["Error"]["Message"]
    assert f"arn:aws:iam::{ACCOUNT_C}:user/mallory" in msg and "sts:AssumeRole" in msg and AUDITOR_ARN in msg, msg
    # Account B is not trusted by A's LocalAdmin role.
    expect_error(server.client("sts", ids.b_carol).assume_role, "AccessDenied", 403,
                 RoleArn=LOCAL_ADMIN_ARN, RoleSessionName="nope")
    # A role that does not exist.
    expect_error(server.client("sts", ids.a_alice).assume_role, "AccessDenied", 403,
                 RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/NoSuchRole", RoleSessionName="nope")
    # The aws CLI reports it too.
    r = server.aws("sts", "assume-role", "--role-arn", AUDITOR_ARN, "--role-session-name", "nope", creds=ids.c_mallory)
    assert r.rc != 0 and r.error_code() == "AccessDenied", r.stderr


@pytest.mark.parametrize("name", ["a", "x" * 65, "has space", "bad/slash", "star*", "semi;colon"])
def test_assume_role_session_name_rules(server, ids, name):
    sts = server.client("sts", ids.a_alice, parameter_validation=False)
    e = expect_error(sts.assume_role, "ValidationError", 400, RoleArn=AUDITOR_ARN, RoleSessionName=name)
    assert "roleSessionName" in e.response["Error"]["Message"]


@pytest.mark.parametrize("name", ["ab", "x" * 64, "w+=,.@-_Z9"])
def test_assume_role_session_name_valid_edges(server, ids, name):
    r = server.client("sts", ids.a_alice).assume_role(RoleArn=AUDITOR_ARN, RoleSessionName=name)
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/{name}"


@pytest.mark.parametrize("duration", [1, 899, 43201, 100000])
def test_assume_role_duration_out_of_range(server, ids, duration):
    sts = server.client("sts", ids.a_alice, parameter_validation=False)
    e = expect_error(sts.assume_role, "ValidationError", 400,
                     RoleArn=AUDITOR_ARN, RoleSessionName="dur", DurationSeconds=duration)
    assert "durationSeconds" in e.response["Error"]["Message"]


@pytest.mark.parametrize("duration", [900, 43200])
def test_assume_role_duration_edges(server, ids, duration):
    before = time.time()
    r = server.client("sts", ids.a_alice).assume_role(
        RoleArn=AUDITOR_ARN, RoleSessionName="dur", DurationSeconds=duration)
    expires = r["Credentials"]["Expiration"].timestamp()
    assert before + duration - 5 <= expires <= time.time() + duration + 5


def test_role_chaining_limited_to_one_hour(server, ids):
    first = server.client("sts", ids.a_alice).assume_role(RoleArn=LOCAL_ADMIN_ARN, RoleSessionName="chain1")
    chained = server.client("sts", temp_creds(first))
    expect_error(chained.assume_role, "ValidationError", 400,
                 RoleArn=AUDITOR_ARN, RoleSessionName="chain2", DurationSeconds=7200)
    # Chaining itself (LocalAdmin lives in A, which Auditor trusts) within one hour works.
    r = chained.assume_role(RoleArn=AUDITOR_ARN, RoleSessionName="chain2")
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/chain2"


# ---------------------------------------------------------------------------------------------------------------------
# GetSessionToken
# ---------------------------------------------------------------------------------------------------------------------


def test_get_session_token_user(server, ids):
    before = time.time()
    r = server.client("sts", ids.a_alice).get_session_token()
    assert set(r["Credentials"]) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert r["Credentials"]["AccessKeyId"].startswith("ASIA")
    # IAM users: 12 hours by default.
    expires = r["Credentials"]["Expiration"].timestamp()
    assert before + 43200 - 5 <= expires <= time.time() + 43200 + 5
    who = server.client("sts", temp_creds(r)).get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert who["Account"] == ACCOUNT_A
    # Session credentials work for CloudTrail too.
    trails = server.client("cloudtrail", temp_creds(r)).describe_trails()
    assert "trailList" in trails


def test_get_session_token_duration_and_cli(server, ids):
    out = server.aws_ok("sts", "get-session-token", "--duration-seconds", "900", creds=ids.a_bob)
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    who = server.aws_ok("sts", "get-caller-identity",
                        creds=Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    expect_error(server.client("sts", ids.a_bob, parameter_validation=False).get_session_token,
                 "ValidationError", 400, DurationSeconds=899)
    expect_error(server.client("sts", ids.a_bob).get_session_token, "ValidationError", 400, DurationSeconds=129601)


def test_get_session_token_with_session_credentials_denied(server, ids):
    r = server.client("sts", ids.a_alice).get_session_token()
    expect_error(server.client("sts", temp_creds(r)).get_session_token, "AccessDenied", 403)


def test_temporary_credentials_require_their_token(server, ids):
    r = server.client("sts", ids.a_alice).assume_role(RoleArn=AUDITOR_ARN, RoleSessionName="tok")
    c = temp_creds(r)
    wrong = Creds(c.access_key, c.secret_key, c.session_token[:-4] + ("AAAA" if not c.session_token.endswith("AAAA") else "BBBB"))
    expect_error(server.client("sts", wrong).get_caller_identity, "InvalidClientTokenId", 403)
    expect_error(server.client("cloudtrail", wrong).describe_trails, "UnrecognizedClientException", 400)
    missing = Creds(c.access_key, c.secret_key, None)
    expect_error(server.client("sts", missing).get_caller_identity, "InvalidClientTokenId", 403)
    # Long-term keys with a session token attached are rejected too.
    bogus = Creds(ids.a_alice.access_key, ids.a_alice.secret_key, "not-a-token")
    expect_error(server.client("sts", bogus).get_caller_identity, "InvalidClientTokenId", 403)


def test_get_caller_identity_as_signed_get(server, ids):
    """Query protocol parameters in the query string of a header-signed GET."""
    resp = server.signed_request(ids.a_bob, service="sts", method="GET",
                                 path="/?Action=GetCallerIdentity&Version=2011-06-15")
    assert resp.status_code == 200, resp.text
    assert f"<Arn>arn:aws:iam::{ACCOUNT_A}:user/engineering/bob</Arn>" in resp.text
