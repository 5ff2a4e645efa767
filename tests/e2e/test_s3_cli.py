"""S3 through the real aws CLI: the high-level `aws s3` commands (mb, ls, cp, sync, mv, rm, rb, presign) and
`aws s3api`, with the errors real S3 gives them."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from cairn_harness import Creds, _key_id, expect_error
from s3_support import MiB, bucket_name, create_bucket, etag, list_keys, multipart_etag, run_aws, s3_client

LS_OBJECT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +(\d+) (.*)$")
LS_PREFIX = re.compile(r"^ +PRE (.*)$")
LS_BUCKET = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$")
CLI_CHUNK = 8 * MiB  # the CLI's default multipart_threshold and multipart_chunksize


@pytest.fixture
def s3(server, ids):
    return s3_client(server, ids.a_alice)


def cli(server, ids, *args, creds=None, region="us-east-1"):
    return server.aws(*args, creds=creds or ids.a_alice, region=region)


def ok(result, what=""):
    assert result.rc == 0, f"{what} rc={result.rc}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def ls_entries(stdout: str) -> tuple[list[str], dict[str, int]]:
    """(PRE prefixes, {key: size}) of `aws s3 ls` output."""
    prefixes, objects = [], {}
    for line in stdout.splitlines():
        if m := LS_PREFIX.match(line):
            prefixes.append(m.group(1))
        elif m := LS_OBJECT.match(line):
            objects[m.group(2)] = int(m.group(1))
        elif line.strip():
            raise AssertionError(f"unexpected ls line: {line!r}")
    return prefixes, objects


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def actions(stdout: str) -> list[str]:
    """The per-file result lines of `aws s3 cp/sync/mv/rm` (progress lines, split on carriage returns, dropped)."""
    return [line for line in stdout.splitlines() if line.split(":", 1)[0] in ("upload", "download", "copy", "move", "delete")]


def tree_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---------------------------------------------------------------------------------------------------------------------
# mb / ls / rb
# ---------------------------------------------------------------------------------------------------------------------


def test_cli_mb_ls_rb(server, ids, s3):
    """`aws s3 mb` creates, `aws s3 ls` lists, `aws s3 rb` removes; a bad name is InvalidBucketName, a missing one NoSuchBucket."""
    name = bucket_name("climb")
    r = ok(cli(server, ids, "s3", "mb", f"s3://{name}"), "mb")
    assert r.stdout.strip() == f"make_bucket: {name}"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = [LS_BUCKET.match(line).group(1) for line in ok(cli(server, ids, "s3", "ls")).stdout.splitlines()]
    assert name in listed
    assert listed == sorted(listed)
    # Other accounts do not see it.
    other = ok(cli(server, ids, "s3", "ls", creds=ids.b_carol)).stdout
    assert name not in other
    r = cli(server, ids, "s3", "mb", "s3://Bad_Bucket_Name")
    assert r.rc != 0 and r.error_code() == "InvalidBucketName", r.stderr
    r = cli(server, ids, "s3", "mb", f"s3://{name}", creds=ids.b_carol)
    assert r.rc != 0 and r.error_code() == "BucketAlreadyExists", r.stderr
    r = ok(cli(server, ids, "s3", "rb", f"s3://{name}"), "rb")
    assert r.stdout.strip() == f"remove_bucket: {name}"
    expect_error(s3.head_bucket, "404", 404, Bucket=name)
    r = cli(server, ids, "s3", "ls", f"s3://{name}")
    assert r.rc != 0 and r.error_code() == "NoSuchBucket", r.stderr
    r = cli(server, ids, "s3", "rb", f"s3://{name}")
    assert r.rc != 0 and r.error_code() == "NoSuchBucket", r.stderr


def test_cli_mb_in_region(server, ids):
    """`aws s3 mb --region eu-west-1` sends the LocationConstraint; get-bucket-location reports eu-west-1."""
    name = bucket_name("clieu")
    ok(cli(server, ids, "s3", "mb", f"s3://{name}", region="eu-west-1"), "mb eu")
    out = ok(cli(server, ids, "s3api", "get-bucket-location", "--bucket", name, region="eu-west-1")).json
    assert out == {"LocationConstraint": "eu-west-1"}
    assert ok(cli(server, ids, "s3", "ls", f"s3://{name}", region="eu-west-1")).stdout == ""
    r = run_aws(server, "s3", "cp", "-", f"s3://{name}/x.txt", creds=ids.a_alice, region="eu-west-1", stdin=b"eu")
    assert r.returncode == 0, r.stderr
    _, objs = ls_entries(ok(cli(server, ids, "s3", "ls", f"s3://{name}", region="eu-west-1")).stdout)
    assert objs == {"x.txt": 2}


# ---------------------------------------------------------------------------------------------------------------------
# sync
# ---------------------------------------------------------------------------------------------------------------------

ODD_FILES = {
    "with space.txt": b"space in the name",
    "plus+sign.txt": b"plus in the name",
    "é/日本.txt": "unicode directory and name".encode(),
    "a/b/c/d/e.txt": b"deep prefix",
    "100%.txt": b"percent sign",
    "what?.txt": b"question mark",
    "hash#and&amp.txt": b"hash and ampersand",
    "empty.txt": b"",
}


def test_cli_sync_round_trip(server, ids, s3, tmp_path):
    """`aws s3 sync` up (20 MiB multipart file, odd names) and back down is byte-identical; re-syncs copy nothing; --delete deletes."""
    name = create_bucket(s3, bucket_name("sync"))
    up = tmp_path / "up"
    big = os.urandom(20 * MiB)
    files = {"big.bin": big, **ODD_FILES}
    write_tree(up, files)

    r = ok(cli(server, ids, "s3", "sync", str(up), f"s3://{name}"), "sync up")
    uploads = actions(r.stdout)
    assert len(uploads) == len(files) and all(u.startswith("upload: ") for u in uploads), r.stdout
    assert list_keys(s3, name) == sorted(files, key=lambda k: k.encode())
    head = s3.head_object(Bucket=name, Key="big.bin")
    assert head["ContentLength"] == len(big)
    # 20 MiB in the CLI's 8 MiB parts: a three-part multipart upload.
    assert head["ETag"] == multipart_etag([big[i:i + CLI_CHUNK] for i in range(0, len(big), CLI_CHUNK)])
    assert s3.get_object(Bucket=name, Key="é/日本.txt")["Body"].read() == files["é/日本.txt"]

    # Nothing changed: a second sync uploads nothing (sizes match and the objects are newer than the files).
    r = ok(cli(server, ids, "s3", "sync", str(up), f"s3://{name}"), "sync up again")
    assert actions(r.stdout) == [], r.stdout

    down = tmp_path / "down"
    r = ok(cli(server, ids, "s3", "sync", f"s3://{name}", str(down)), "sync down")
    downloads = actions(r.stdout)
    assert len(downloads) == len(files) and all(d.startswith("download: ") for d in downloads), r.stdout
    got = tree_of(down)
    assert sorted(got) == sorted(files)
    for rel, data in files.items():
        assert got[rel] == data, rel
    assert filecmp.cmp(up / "big.bin", down / "big.bin", shallow=False)
    r = ok(cli(server, ids, "s3", "sync", f"s3://{name}", str(down)), "sync down again")
    assert actions(r.stdout) == [], r.stdout

    # One changed file is the only upload; a deleted file is deleted remotely with --delete.
    (up / "a/b/c/d/e.txt").write_bytes(b"deep prefix, longer now")
    (up / "what?.txt").unlink()
    r = ok(cli(server, ids, "s3", "sync", str(up), f"s3://{name}", "--delete"), "sync --delete")
    lines = sorted(actions(r.stdout))
    assert len(lines) == 2, r.stdout
    assert lines[0].startswith("delete: ") and lines[0].endswith(f"s3://{name}/what?.txt"), lines
    assert lines[1].startswith("upload: ") and lines[1].endswith(f"s3://{name}/a/b/c/d/e.txt"), lines
    assert "what?.txt" not in list_keys(s3, name)
    assert s3.get_object(Bucket=name, Key="a/b/c/d/e.txt")["Body"].read() == b"deep prefix, longer now"


# ---------------------------------------------------------------------------------------------------------------------
# ls
# ---------------------------------------------------------------------------------------------------------------------


def test_cli_ls_listings(server, ids, s3):
    """`aws s3 ls`: top level with PRE entries, sub-prefixes, partial prefixes, --recursive (paged) and --summarize."""
    name = create_bucket(s3, bucket_name("clils"))
    objects = {"top.txt": b"top", "a/x.txt": b"xx", "a/b/c/d/e.txt": b"eeeee", "a b/space.txt": b"s", "ab.txt": b"ab"}
    for k, v in objects.items():
        s3.put_object(Bucket=name, Key=k, Body=v)
    prefixes, objs = ls_entries(ok(cli(server, ids, "s3", "ls", f"s3://{name}")).stdout)
    assert (sorted(prefixes), objs) == (["a b/", "a/"], {"ab.txt": 2, "top.txt": 3})
    prefixes, objs = ls_entries(ok(cli(server, ids, "s3", "ls", f"s3://{name}/a/")).stdout)
    assert (prefixes, objs) == (["b/"], {"x.txt": 2})
    prefixes, objs = ls_entries(ok(cli(server, ids, "s3", "ls", f"s3://{name}/a/b")).stdout)
    assert (prefixes, objs) == (["b/"], {})
    prefixes, objs = ls_entries(ok(cli(server, ids, "s3", "ls", f"s3://{name}/a")).stdout)
    assert (sorted(prefixes), objs) == (["a b/", "a/"], {"ab.txt": 2})
    r = ok(cli(server, ids, "s3", "ls", f"s3://{name}", "--recursive", "--page-size", "2"))
    prefixes, objs = ls_entries(r.stdout)
    assert (prefixes, objs) == ([], {k: len(v) for k, v in objects.items()})
    keys_in_order = [LS_OBJECT.match(line).group(2) for line in r.stdout.splitlines()]
    assert keys_in_order == sorted(objects, key=lambda k: k.encode())
    r = ok(cli(server, ids, "s3", "ls", f"s3://{name}/a/", "--recursive", "--summarize"))
    assert "Total Objects: 2" in r.stdout and "Total Size: 7" in r.stdout, r.stdout


# ---------------------------------------------------------------------------------------------------------------------
# cp / mv / rm / rb
# ---------------------------------------------------------------------------------------------------------------------


def test_cli_cp_and_mv(server, ids, s3, tmp_path):
    """`aws s3 cp` up (with content type and metadata), S3-to-S3 and down; `mv` moves files and objects; a missing key is 404."""
    name = create_bucket(s3, bucket_name("clicp"))
    src = tmp_path / "local file.txt"
    src.write_bytes(b"copied by the CLI\n" * 50)
    ok(cli(server, ids, "s3", "cp", str(src), f"s3://{name}/dir/file é.txt", "--content-type", "text/x-cli",
           "--metadata", "origin=cli,Mixed=Case"), "cp up")
    head = ok(cli(server, ids, "s3api", "head-object", "--bucket", name, "--key", "dir/file é.txt")).json
    assert head["ContentType"] == "text/x-cli"
    assert head["Metadata"] == {"origin": "cli", "mixed": "Case"}
    assert head["ETag"] == etag(src.read_bytes()) and head["ContentLength"] == src.stat().st_size

    ok(cli(server, ids, "s3", "cp", f"s3://{name}/dir/file é.txt", f"s3://{name}/copy.txt"), "cp s3->s3")
    copied = s3.head_object(Bucket=name, Key="copy.txt")
    assert (copied["ContentType"], copied["Metadata"]) == ("text/x-cli", {"origin": "cli", "mixed": "Case"})
    dst = tmp_path / "back.txt"
    ok(cli(server, ids, "s3", "cp", f"s3://{name}/copy.txt", str(dst)), "cp down")
    assert dst.read_bytes() == src.read_bytes()

    moving = tmp_path / "moving.bin"
    moving.write_bytes(b"on the move")
    r = ok(cli(server, ids, "s3", "mv", str(moving), f"s3://{name}/moved.bin"), "mv up")
    assert [a.split(":")[0] for a in actions(r.stdout)] == ["move"], r.stdout
    assert not moving.exists()
    ok(cli(server, ids, "s3", "mv", f"s3://{name}/moved.bin", f"s3://{name}/sub/moved-again.bin"), "mv s3->s3")
    keys = list_keys(s3, name)
    assert "moved.bin" not in keys and "sub/moved-again.bin" in keys
    assert s3.get_object(Bucket=name, Key="sub/moved-again.bin")["Body"].read() == b"on the move"

    r = cli(server, ids, "s3", "cp", f"s3://{name}/no-such-key", str(tmp_path / "nothing"))
    assert r.rc != 0 and r.error_code() == "404", r.stderr
    assert not (tmp_path / "nothing").exists()
    r = cli(server, ids, "s3", "cp", str(src), f"s3://{bucket_name('nocpbucket')}/x")
    assert r.rc != 0 and r.error_code() == "NoSuchBucket", r.stderr


def test_cli_multipart_copy_between_buckets(server, ids, s3, tmp_path):
    """`aws s3 cp` of a 9 MiB object between buckets runs a multipart copy (UploadPartCopy with ranges) that is byte-identical."""
    a = create_bucket(s3, bucket_name("mpcsrc"))
    b = create_bucket(s3, bucket_name("mpcdst"))
    data = os.urandom(9 * MiB)
    s3.put_object(Bucket=a, Key="nine.bin", Body=data, ContentType="application/x-nine", Metadata={"m": "1"})
    ok(cli(server, ids, "s3", "cp", f"s3://{a}/nine.bin", f"s3://{b}/nine copy.bin"), "cp multipart copy")
    head = s3.head_object(Bucket=b, Key="nine copy.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag([data[:CLI_CHUNK], data[CLI_CHUNK:]])  # copied in parts, not CopyObject
    # (aws CLI v1 does not carry Content-Type / metadata over on multipart copies, so they are not compared here.)
    got = s3.get_object(Bucket=b, Key="nine copy.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_cli_cp_stdin_and_stdout(server, ids, s3):
    """`aws s3 cp - s3://…` streams standard input up; `aws s3 cp s3://… -` streams the object to standard output."""
    name = create_bucket(s3, bucket_name("clistd"))
    data = b"".join(b"line %d of the stream\n" % i for i in range(5000))
    r = run_aws(server, "s3", "cp", "-", f"s3://{name}/streamed.txt", creds=ids.a_alice, stdin=data)
    assert r.returncode == 0, r.stderr
    assert s3.get_object(Bucket=name, Key="streamed.txt")["Body"].read() == data
    r = run_aws(server, "s3", "cp", f"s3://{name}/streamed.txt", "-", creds=ids.a_alice)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_cli_rm_recursive_and_rb_force(server, ids, s3):
    """`aws s3 rm` (one key, --recursive under a prefix only); `rb` refuses a non-empty bucket (BucketNotEmpty), `rb --force` empties and removes it."""
    name = create_bucket(s3, bucket_name("clirm"))
    for k in ("logs/1", "logs/2", "logs/sub/3", "logsX", "keep/1", "keep/2"):
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    r = ok(cli(server, ids, "s3", "rm", f"s3://{name}/keep/1"), "rm")
    assert actions(r.stdout) == [f"delete: s3://{name}/keep/1"], r.stdout
    r = ok(cli(server, ids, "s3", "rm", f"s3://{name}/logs/", "--recursive"), "rm --recursive")
    assert sorted(actions(r.stdout)) == sorted(f"delete: s3://{name}/{k}" for k in ("logs/1", "logs/2", "logs/sub/3"))
    assert list_keys(s3, name) == ["keep/2", "logsX"]
    r = cli(server, ids, "s3", "rb", f"s3://{name}")
    assert r.rc != 0 and r.error_code() == "BucketNotEmpty", r.stderr
    assert "The bucket you tried to delete is not empty" in r.stderr
    assert list_keys(s3, name) == ["keep/2", "logsX"]
    r = ok(cli(server, ids, "s3", "rb", f"s3://{name}", "--force"), "rb --force")
    assert f"remove_bucket: {name}" in r.stdout
    expect_error(s3.head_bucket, "404", 404, Bucket=name)


# ---------------------------------------------------------------------------------------------------------------------
# s3api
# ---------------------------------------------------------------------------------------------------------------------


def test_cli_s3api_objects_and_paging(server, ids, tmp_path):
    """`aws s3api` create-bucket / put-object / head-object / get-object / list-objects-v2 paging / delete-objects."""
    name = bucket_name("s3api")
    assert ok(cli(server, ids, "s3api", "create-bucket", "--bucket", name)).json == {"Location": f"/{name}"}
    body = tmp_path / "body.bin"
    body.write_bytes(os.urandom(3000))
    put = ok(cli(server, ids, "s3api", "put-object", "--bucket", name, "--key", "k é+1", "--body", str(body),
                 "--content-type", "application/x-test", "--metadata", "a=b")).json
    assert put["ETag"] == etag(body.read_bytes())
    head = ok(cli(server, ids, "s3api", "head-object", "--bucket", name, "--key", "k é+1")).json
    assert (head["ContentLength"], head["ContentType"], head["Metadata"]) == (3000, "application/x-test", {"a": "b"})
    out = tmp_path / "out.bin"
    got = ok(cli(server, ids, "s3api", "get-object", "--bucket", name, "--key", "k é+1", str(out))).json
    assert got["ContentLength"] == 3000 and out.read_bytes() == body.read_bytes()
    rng = ok(cli(server, ids, "s3api", "get-object", "--bucket", name, "--key", "k é+1", "--range", "bytes=10-19",
                 str(tmp_path / "part.bin"))).json
    assert rng["ContentRange"] == "bytes 10-19/3000"
    assert (tmp_path / "part.bin").read_bytes() == body.read_bytes()[10:20]

    keys = [f"page/{i:02d}" for i in range(7)]
    s3 = s3_client(server, ids.a_alice)
    for k in keys:
        s3.put_object(Bucket=name, Key=k, Body=b"")
    everything = ok(cli(server, ids, "s3api", "list-objects-v2", "--bucket", name, "--prefix", "page/",
                        "--page-size", "2")).json
    assert [o["Key"] for o in everything["Contents"]] == keys
    first = ok(cli(server, ids, "s3api", "list-objects-v2", "--bucket", name, "--prefix", "page/",
                   "--max-items", "3")).json
    assert [o["Key"] for o in first["Contents"]] == keys[:3] and first.get("NextToken")
    rest = ok(cli(server, ids, "s3api", "list-objects-v2", "--bucket", name, "--prefix", "page/",
                  "--starting-token", first["NextToken"])).json
    assert [o["Key"] for o in rest["Contents"]] == keys[3:]
    v1 = ok(cli(server, ids, "s3api", "list-objects", "--bucket", name, "--delimiter", "/")).json
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["page/"]
    assert [o["Key"] for o in v1["Contents"]] == ["k é+1"]

    deleted = ok(cli(server, ids, "s3api", "delete-objects", "--bucket", name, "--delete",
                     json.dumps({"Objects": [{"Key": k} for k in keys[:4]]}))).json
    assert sorted(d["Key"] for d in deleted["Deleted"]) == keys[:4]
    left = ok(cli(server, ids, "s3api", "list-objects-v2", "--bucket", name)).json
    assert [o["Key"] for o in left["Contents"]] == ["k é+1"] + keys[4:]


def test_cli_s3api_multipart(server, ids, s3, tmp_path):
    """`aws s3api` create-multipart-upload / upload-part / list-parts / complete-multipart-upload with the CLI's defaults."""
    name = create_bucket(s3, bucket_name("climpu"))
    parts = [os.urandom(5 * MiB), b"final part"]
    uid = ok(cli(server, ids, "s3api", "create-multipart-upload", "--bucket", name, "--key", "mp.bin")).json["UploadId"]
    listed = ok(cli(server, ids, "s3api", "list-multipart-uploads", "--bucket", name)).json
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("mp.bin", uid)]
    done = []
    for n, data in enumerate(parts, start=1):
        f = tmp_path / f"part{n}"
        f.write_bytes(data)
        r = ok(cli(server, ids, "s3api", "upload-part", "--bucket", name, "--key", "mp.bin", "--upload-id", uid,
                   "--part-number", str(n), "--body", str(f))).json
        assert r["ETag"] == etag(data)
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    lp = ok(cli(server, ids, "s3api", "list-parts", "--bucket", name, "--key", "mp.bin", "--upload-id", uid)).json
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 5 * MiB), (2, len(parts[1]))]
    spec = tmp_path / "parts.json"
    spec.write_text(json.dumps({"Parts": done}))
    out = ok(cli(server, ids, "s3api", "complete-multipart-upload", "--bucket", name, "--key", "mp.bin",
                 "--upload-id", uid, "--multipart-upload", f"file://{spec}")).json
    assert out["ETag"] == multipart_etag(parts)
    assert s3.get_object(Bucket=name, Key="mp.bin")["Body"].read() == b"".join(parts)
    r = cli(server, ids, "s3api", "abort-multipart-upload", "--bucket", name, "--key", "mp.bin", "--upload-id", uid)
    assert r.rc != 0 and r.error_code() == "NoSuchUpload", r.stderr


def test_cli_s3api_errors(server, ids, s3, tmp_path):
    """`aws s3api` surfaces S3's error codes: NoSuchKey, 404 on HEAD, NoSuchBucketPolicy, BucketNotEmpty, BucketAlreadyExists."""
    name = create_bucket(s3, bucket_name("clierr"))
    s3.put_object(Bucket=name, Key="present", Body=b"x")
    r = cli(server, ids, "s3api", "get-object", "--bucket", name, "--key", "absent", str(tmp_path / "o"))
    assert r.rc != 0 and r.error_code() == "NoSuchKey", r.stderr
    assert "The specified key does not exist." in r.stderr
    r = cli(server, ids, "s3api", "head-object", "--bucket", name, "--key", "absent")
    assert r.rc != 0 and r.error_code() == "404", r.stderr
    r = cli(server, ids, "s3api", "get-bucket-policy", "--bucket", name)
    assert r.rc != 0 and r.error_code() == "NoSuchBucketPolicy", r.stderr
    r = cli(server, ids, "s3api", "delete-bucket", "--bucket", name)
    assert r.rc != 0 and r.error_code() == "BucketNotEmpty", r.stderr
    r = cli(server, ids, "s3api", "create-bucket", "--bucket", name, creds=ids.c_mallory)
    assert r.rc != 0 and r.error_code() == "BucketAlreadyExists", r.stderr
    r = cli(server, ids, "s3api", "create-bucket", "--bucket", bucket_name("cliloc"), "--create-bucket-configuration",
            "LocationConstraint=us-east-1")
    assert r.rc != 0 and r.error_code() == "InvalidLocationConstraint", r.stderr
    r = cli(server, ids, "s3api", "head-bucket", "--bucket", bucket_name("clinone"))
    assert r.rc != 0 and r.error_code() == "404", r.stderr
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*"}]}
    ok(cli(server, ids, "s3api", "put-bucket-policy", "--bucket", name, "--policy", json.dumps(policy)))
    got = ok(cli(server, ids, "s3api", "get-bucket-policy", "--bucket", name)).json
    assert json.loads(got["Policy"]) == policy
    r = cli(server, ids, "s3api", "put-bucket-policy", "--bucket", name, "--policy", "{not json")
    assert r.rc != 0 and r.error_code() == "MalformedPolicy", r.stderr


# ---------------------------------------------------------------------------------------------------------------------
# presign, credentials, other accounts
# ---------------------------------------------------------------------------------------------------------------------


def test_cli_presign(server, ids, s3, tmp_path):
    """`aws s3 presign` (s3.signature_version = s3v4) yields a URL that plain HTTP can GET until it expires."""
    name = create_bucket(s3, bucket_name("clipre"))
    s3.put_object(Bucket=name, Key="shared file.txt", Body=b"presigned by the CLI")
    config = tmp_path / "config"
    config.write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    r = run_aws(server, "s3", "presign", f"s3://{name}/shared file.txt", "--expires-in", "300",
                creds=ids.a_alice, config_file=str(config))
    assert r.returncode == 0, r.stderr
    url = r.stdout.decode().strip()
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url, url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert (resp.status, resp.read()) == (200, b"presigned by the CLI")


def test_cli_bad_credentials(server, ids, s3, tmp_path):
    """The CLI reports InvalidAccessKeyId / SignatureDoesNotMatch and nothing is created or uploaded."""
    name = create_bucket(s3, bucket_name("clicred"))
    unknown = Creds(_key_id(), "y" * 40)
    bad = Creds(ids.a_alice.access_key, ids.a_alice.secret_key[:-1] + ("A" if ids.a_alice.secret_key[-1] != "A" else "B"))
    r = cli(server, ids, "s3", "ls", creds=unknown)
    assert r.rc != 0 and r.error_code() == "InvalidAccessKeyId", r.stderr
    r = cli(server, ids, "s3", "ls", f"s3://{name}", creds=bad)
    assert r.rc != 0 and r.error_code() == "SignatureDoesNotMatch", r.stderr
    ghost = bucket_name("clighost")
    for creds, code in ((unknown, "InvalidAccessKeyId"), (bad, "SignatureDoesNotMatch")):
        r = cli(server, ids, "s3", "mb", f"s3://{ghost}", creds=creds)
        assert r.rc != 0 and r.error_code() == code, r.stderr
    expect_error(s3.head_bucket, "404", 404, Bucket=ghost)
    f = tmp_path / "f.txt"
    f.write_bytes(b"should not land")
    for creds, code in ((unknown, "InvalidAccessKeyId"), (bad, "SignatureDoesNotMatch")):
        r = cli(server, ids, "s3", "cp", str(f), f"s3://{name}/f.txt", creds=creds)
        assert r.rc != 0 and r.error_code() == code, r.stderr
    assert list_keys(s3, name) == []


def test_cli_other_account_denied(server, ids, s3, tmp_path):
    """Another account's `aws s3 ls / cp / rb --force` on a private bucket fail with AccessDenied and change nothing."""
    name = create_bucket(s3, bucket_name("clipriv"))
    s3.put_object(Bucket=name, Key="mine.txt", Body=b"private")
    f = tmp_path / "theirs.txt"
    f.write_bytes(b"intrusion")
    for creds in (ids.b_carol, ids.c_mallory):
        r = cli(server, ids, "s3", "ls", f"s3://{name}", creds=creds)
        assert r.rc != 0 and r.error_code() == "AccessDenied", r.stderr
        r = cli(server, ids, "s3", "cp", str(f), f"s3://{name}/theirs.txt", creds=creds)
        assert r.rc != 0 and r.error_code() == "AccessDenied", r.stderr
        r = cli(server, ids, "s3", "cp", f"s3://{name}/mine.txt", str(tmp_path / "stolen.txt"), creds=creds)
        assert r.rc != 0 and r.error_code() in ("403", "AccessDenied"), r.stderr
        r = cli(server, ids, "s3", "rb", f"s3://{name}", "--force", creds=creds)
        assert r.rc != 0 and r.error_code() == "AccessDenied", r.stderr
    assert not (tmp_path / "stolen.txt").exists()
    assert list_keys(s3, name) == ["mine.txt"]
    assert s3.get_object(Bucket=name, Key="mine.txt")["Body"].read() == b"private"
