"""Fixtures for chain tests: locating the shared conformance data.

The data lives outside the repo (/work/shared/conformance, or $SUANPAN_SHARED_DIR). When
it is missing, tests that need it are skipped locally but FAIL under CI=true, because CI
must run the published vectors.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ENV = "SUANPAN_SHARED_DIR"
PROBES = "rfc6962-merkle/transparency-dev-merkle/testdata"


def find_conformance_dir() -> Path | None:
    """Return <shared>/conformance if present; <shared> is $SUANPAN_SHARED_DIR or ../shared."""
    env = os.environ.get(SHARED_ENV)
    shared = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    conformance = shared / "conformance"
    return conformance if conformance.is_dir() else None


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The conformance data directory; skip (or fail under CI) when it is absent."""
    found = find_conformance_dir()
    if found is None:
        msg = f"shared conformance data not found (set {SHARED_ENV} to the shared dir)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``inclusion_probe`` / ``consistency_probe`` with the probe files."""
    for kind in ("inclusion", "consistency"):
        name = f"{kind}_probe"
        if name not in metafunc.fixturenames:
            continue
        found = find_conformance_dir()
        root = found / PROBES / kind if found else None
        paths = sorted(root.rglob("*.json")) if root and root.is_dir() else []
        if paths:
            ids = [str(p.relative_to(root)) for p in paths]
            metafunc.parametrize(name, paths, ids=ids)
        else:  # the `conformance` fixture will skip or fail
            metafunc.parametrize(name, [None], ids=["data-missing"])
