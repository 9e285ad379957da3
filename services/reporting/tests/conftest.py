"""Fixtures of the reporting tests (the event builder lives in ``reporting_programme``)."""

from __future__ import annotations

import pytest
from reporting_programme import Programme


@pytest.fixture
def programme() -> Programme:
    return Programme()
