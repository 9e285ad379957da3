"""``SCHEDULING_MAX_CAPACITY``: the installation's bound on a session's seats."""

from __future__ import annotations

import pytest

from trainops_scheduling.app import MAX_CAPACITY_ENV, load_max_capacity
from trainops_scheduling.domain import CAPACITY_CEILING, DEFAULT_MAX_CAPACITY
from trainops_shared.settings import SettingsError

pytestmark = pytest.mark.unit


def test_default_and_explicit_bounds() -> None:
    assert load_max_capacity({}) == DEFAULT_MAX_CAPACITY == 100_000
    assert load_max_capacity({MAX_CAPACITY_ENV: "250000"}) == 250_000
    assert load_max_capacity({MAX_CAPACITY_ENV: "250_000"}) == 250_000
    assert load_max_capacity({MAX_CAPACITY_ENV: str(CAPACITY_CEILING)}) == CAPACITY_CEILING


@pytest.mark.parametrize("raw", ["0", "-5", "lots", "2.5", str(CAPACITY_CEILING + 1)])
def test_unusable_bounds_stop_the_start_with_a_clear_message(raw: str) -> None:
    with pytest.raises(SettingsError, match=MAX_CAPACITY_ENV):
        load_max_capacity({MAX_CAPACITY_ENV: raw})
