"""Fixtures that run the real hub and a real upstream REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub_process import RunningHub, running_hub
from tests.support.upstream import PetstoreUpstream, petstore_upstream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ERAS = ["legacy", "2026-07-28"]


@pytest.fixture(scope="session")
def petstore() -> Iterator[PetstoreUpstream]:
    with petstore_upstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture(scope="module")
def petstore_hub(hub: RunningHub, petstore: PetstoreUpstream, shared_specs: Path) -> RunningHub:
    """The hub with the shared petstore (key sent by --header) and petstore-plus (key by --api-key)."""
    hub.cli(
        "api",
        "add",
        "petstore",
        str(shared_specs / "petstore-3.0.yaml"),
        "--base-url",
        petstore.base_url,
        "--header",
        "X-API-Key: header-secret",
    )
    hub.cli(
        "api",
        "add",
        "plus",
        str(FIXTURES / "petstore-plus.yaml"),
        "--base-url",
        petstore.base_url,
        "--api-key",
        "plus-secret",
    )
    hub.wait_for_tools(lambda names: "plus_showPetById" in names and "petstore_listPets" in names)
    return hub
