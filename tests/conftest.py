"""Shared pytest fixtures: where Amazon's models are, and a running emulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_models_dir() -> Path | None:
    """Amazon's OpenAPI models: ``$SPAPI_MODELS_DIR`` or ``../shared/spapi-models`` beside the checkout."""
    env = os.environ.get("SPAPI_MODELS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "spapi-models")
    for path in candidates:
        if (path / "orders-v0.json").is_file():
            return path
    return None


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The models folder, or skip: the model-based tests need Amazon's models beside the checkout."""
    path = find_models_dir()
    if path is None:
        pytest.skip("Amazon's SP-API models not found: set SPAPI_MODELS_DIR or put shared/spapi-models "
                    "beside the checkout")
    return path


@pytest.fixture(scope="module")
def demo_database():
    """A Database on the process-wide demo emulator, for one test module."""
    from sqlspapi.engine import open_database

    db = open_database(demo=True)
    yield db
    db.close()
