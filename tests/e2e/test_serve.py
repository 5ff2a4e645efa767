"""`cairn serve` itself: --help, environment variables, identities files (JSON, YAML, malformed), default identity."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from cairn_harness import ACCOUNT_A, ACCOUNT_B, BINARY, REPO, CairnServer, Creds, free_port, to_yaml

FLAGS = {
    "--host": "CAIRN_HOST", "--port": "CAIRN_PORT", "--data-dir": "CAIRN_DATA_DIR", "--identities": "CAIRN_IDENTITIES",
    "--delivery-interval": "CAIRN_DELIVERY_INTERVAL", "--digest-interval": "CAIRN_DIGEST_INTERVAL",
    "--resource-policy-checks": "CAIRN_RESOURCE_POLICY_CHECKS",
}


def run_serve(args: list[str], tmp_path: Path, env: dict | None = None, timeout: float = 15) -> tuple[int, str]:
    """Runs `cairn serve` expecting it to exit by itself; returns (status, combined output)."""
    proc = subprocess.Popen([str(BINARY), "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=tmp_path, env=env or {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")})
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"cairn serve {args} kept running instead of exiting:\n{out.decode(errors='replace')}")
    return proc.returncode, out.decode(errors="replace")


def test_help_lists_every_flag(binary):
    proc = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    for flag, env in FLAGS.items():
        assert flag in text, f"{flag} missing from --help"
        assert env in text, f"{env} missing from --help"
    for default in ("127.0.0.1", "4566", "./cairn-data", "60", "3600", "strict"):
        assert default in text, f"default {default} not documented"


@pytest.mark.parametrize("content,problem", [
    ('{"accounts": [ {"id": "111111111111", ', "truncated JSON"),
    ("accounts:\n  - id: [unclosed\n", "broken YAML"),
    ('{"accounts": "not-a-list"}', "wrong type"),
    ('{"accounts": [{"id": "12345", "users": []}]}', "account id not 12 digits"),
    ('{"accounts": [{"id": "111111111111", "users": [{"name": "u", "accessKeys": [{"accessKeyId": "AKIAX"}]}]}]}',
     "access key without secret"),
    ('{"accounts": [{"id": "111111111111", "users": [{"name": "u", "accessKeys": '
     '[{"accessKeyId": "AKIAAAAAAAAAAAAAAAAA", "secretAccessKey": "s"}]}, {"name": "v", "accessKeys": '
     '[{"accessKeyId": "AKIAAAAAAAAAAAAAAAAA", "secretAccessKey": "t"}]}]}]}', "duplicate access key id"),
])
def test_malformed_identities_file_stops_serve(binary, tmp_path, content, problem):
    path = tmp_path / "bad-identities.json"
    path.write_text(content)
    status, out = run_serve(["--port", str(free_port()), "--data-dir", str(tmp_path / "d"), "--identities", str(path)],
                            tmp_path)
    assert status != 0, f"{problem}: exited 0:\n{out}"
    assert str(path) in out or "bad-identities.json" in out, f"{problem}: message does not name the file:\n{out}"


def test_missing_identities_file(binary, tmp_path):
    path = tmp_path / "does-not-exist.yaml"
    status, out = run_serve(["--port", str(free_port()), "--data-dir", str(tmp_path / "d"), "--identities", str(path)],
                            tmp_path)
    assert status != 0
    assert "does-not-exist.yaml" in out, out


def test_yaml_identities(binary, ids, tmp_path):
    path = tmp_path / "identities.yaml"
    path.write_text("# Cairn identities in YAML\n" + to_yaml(ids.document()) + "\n")
    srv = CairnServer(tmp_path / "data", path, ids).start()
    try:
        alice = srv.client("sts", ids.a_alice).get_caller_identity()
        assert alice["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
        root = srv.client("sts", ids.a_root).get_caller_identity()
        assert root["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:root"
        r = srv.client("sts", ids.a_bob).assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/Auditor",
                                                     RoleSessionName="yaml")
        assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/yaml"
        out = srv.aws_ok("sts", "get-caller-identity", creds=ids.b_carol)
        assert out["Arn"] == f"arn:aws:iam::{ACCOUNT_B}:user/carol"
    finally:
        assert srv.stop() == 0


def test_same_principal_ids_from_json_and_yaml(binary, ids, identities_file, tmp_path):
    """Principal ids derive from account and name only, so two servers agree."""
    yaml_path = tmp_path / "identities.yml"
    yaml_path.write_text(to_yaml(ids.document()) + "\n")
    got = []
    for path, name in ((identities_file, "json"), (yaml_path, "yaml")):
        srv = CairnServer(tmp_path / f"data-{name}", path, ids).start()
        try:
            got.append(srv.client("sts", ids.a_alice).get_caller_identity()["UserId"])
        finally:
            assert srv.stop() == 0
    assert got[0] == got[1]


def test_default_identity_and_environment_variables(binary, tmp_path):
    """No --identities: account 000000000000, user test, key test/test. Flags come from CAIRN_* variables."""
    port = free_port()
    data = tmp_path / "env-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env.update(CAIRN_PORT=str(port), CAIRN_DATA_DIR=str(data), CAIRN_HOST="127.0.0.1")
    log = tmp_path / "serve.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([str(binary), "serve"], cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        srv = CairnServer.attached(port, proc, log)
        srv.wait_healthy()
        assert data.is_dir(), "data directory from CAIRN_DATA_DIR was not created"
        who = srv.client("sts", Creds("test", "test")).get_caller_identity()
        assert who["Account"] == "000000000000"
        assert who["Arn"] == "arn:aws:iam::000000000000:user/test"
        out = srv.aws_ok("cloudtrail", "describe-trails", creds=Creds("test", "test"))
        assert out == {"trailList": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0, log.read_text(errors="replace")


def test_flags_win_over_environment(binary, tmp_path, identities_file, ids):
    flag_port, env_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env.update(CAIRN_PORT=str(env_port), CAIRN_DATA_DIR=str(tmp_path / "env-dir"))
    with open(tmp_path / "serve.log", "wb") as f:
        proc = subprocess.Popen(
            [str(binary), "serve", "--port", str(flag_port), "--data-dir", str(tmp_path / "flag-dir"),
             "--identities", str(identities_file)], cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{flag_port}/_cairn/health", timeout=1) as r:
                    assert json.loads(r.read())["status"] == "ok"
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
                assert time.monotonic() < deadline, "not healthy on the --port port"
                time.sleep(0.02)
        assert (tmp_path / "flag-dir").is_dir()
        assert not (tmp_path / "env-dir").exists()
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{env_port}/_cairn/health", timeout=1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_sigint_stops_cleanly(binary, tmp_path, identities_file, ids):
    srv = CairnServer(tmp_path / "data", identities_file, ids).start()
    srv.client("sts", ids.a_alice).get_caller_identity()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=10) == 0


def test_cold_start_is_fast(binary, tmp_path, identities_file, ids):
    srv = CairnServer(tmp_path / "data", identities_file, ids)
    t0 = time.monotonic()
    srv.start()
    elapsed = time.monotonic() - t0
    try:
        assert elapsed < 1.0, f"cold start to healthy took {elapsed:.2f}s"
    finally:
        assert srv.stop() == 0


def _readme_blocks_after(heading: str) -> list[list[str]]:
    """The `sh` code blocks of the README section under `heading`, each as its `aws ...` commands (comments dropped)."""
    text = (REPO / "README.md").read_text()
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = []
    for block in section.split("```sh\n")[1:]:
        body = block.split("```", 1)[0]
        commands, current = [], ""
        for line in body.splitlines():
            current += line + "\n"
            if current.count("'") % 2 == 0:  # a quoted policy may span lines
                if current.strip().startswith("aws "):
                    commands.append(current)
                current = ""
        blocks.append(commands)
    return blocks


def test_readme_trail_examples_work_as_written(binary, tmp_path):
    """The README's first commands work on a fresh server in the default (strict) mode with the default identity."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    with open(log, "wb") as f:
        proc = subprocess.Popen([str(binary), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
                                cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        srv = CairnServer.attached(port, proc, log)
        srv.wait_healthy()
        blocks = _readme_blocks_after("## Pointing clients at Cairn")
        commands = blocks[0] + blocks[1]
        assert any("create-subscription" in c for c in commands) and any("create-trail" in c for c in commands)
        for command in commands:
            args = shlex.split(command, comments=True)[1:]
            result = srv.aws(*args, creds=Creds("test", "test"))
            assert result.rc == 0, f"{command}: {result.stderr}"
        ct = srv.client("cloudtrail", Creds("test", "test"))
        names = {t["Name"] for t in ct.describe_trails()["trailList"]}
        assert names == {"my-trail", "my-own-trail"}
        assert ct.get_trail_status(Name="my-trail")["IsLogging"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0, log.read_text(errors="replace")
