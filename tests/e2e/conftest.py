"""Fixtures of the end-to-end suite: a real `cairn serve` per module (or per test for restart / kill -9 tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cairn_harness import CairnServer, Identities, ensure_binary, make_identities


# --------------------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ids() -> Identities:
    return make_identities()


@pytest.fixture(scope="session")
def identities_file(ids: Identities, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("identities") / "identities.json"
    path.write_text(json.dumps(ids.document(), indent=2))
    return path


@pytest.fixture(scope="session")
def binary() -> Path:
    return ensure_binary()


def _start(tmp_path_factory, identities_file: Path, ids: Identities, name: str) -> CairnServer:
    root = tmp_path_factory.mktemp(name)
    return CairnServer(root / "data", identities_file, ids).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory, identities_file, ids, binary):
    """A server shared by the tests of one module (they only add state, never restart it)."""
    srv = _start(tmp_path_factory, identities_file, ids, "srv")
    yield srv
    rc = srv.stop()
    assert rc == 0, f"cairn exited {rc} on SIGTERM:\n{srv.log_text()[-2000:]}"


@pytest.fixture
def own_server(tmp_path_factory, identities_file, ids, binary):
    """A server for one test (restart / kill -9 tests)."""
    srv = _start(tmp_path_factory, identities_file, ids, "own")
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        rc = srv.stop()
        assert rc == 0, f"cairn exited {rc} on SIGTERM:\n{srv.log_text()[-2000:]}"
