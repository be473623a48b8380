"""The status page's plain words: the cart's event types read as words, not raw names."""

import pytest

from store_bridge.core.cart_model import NewsKind
from store_bridge.words import EVENTS, event


@pytest.mark.parametrize("kind", list(NewsKind))
def test_each_cart_event_reads_as_plain_words(kind: NewsKind) -> None:
    assert kind.value in EVENTS
    assert event(kind.value) != kind.value.replace("_", " ")  # not the raw name


def test_an_unknown_event_type_falls_back_to_its_name_in_words() -> None:
    assert event("something_new") == "something new"
    assert event("item_picked") == "item taken"
