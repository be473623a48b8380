"""Fixtures for the checkout tests' shop (`charging_shop.py`).

A test module uses one by importing it and naming it in its `__all__`.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store_bridge.fake_processor import FakeProcessor

from .cart_shop import Shop
from .charging_shop import Premises, charging_shop
from .conftest import Operator


@pytest.fixture
async def shop(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, FakeProcessor]]:
    """A stocked shop (`charging_shop`) charging through the embedded processor."""
    async with charging_shop(tmp_path / "bridge.sqlite3", operator, FakeProcessor()) as (
        store,
        processor,
    ):
        yield store, processor


@pytest.fixture(name="shop")
async def shop_without_chips(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, FakeProcessor]]:
    """`shop` for a module that imports this one: its terminals read no card chips."""
    async with charging_shop(
        tmp_path / "bridge.sqlite3", operator, FakeProcessor(), chips=False
    ) as (store, processor):
        yield store, processor


@pytest.fixture
def premises(tmp_path: Path, operator: Operator, socket_enabled: None) -> Premises:
    """A shop's file and clock for a test that restarts it."""
    return Premises(tmp_path / "bridge.sqlite3", operator)
