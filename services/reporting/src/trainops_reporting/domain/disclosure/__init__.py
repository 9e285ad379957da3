"""Statistical disclosure control of the reports: one suppression pattern for everything
reporting staff can request for one filter, proven by linear programs.

* ``universe``: the finest cells, every publishable marginal and the lines that tie them;
* ``labels``: what ``primary`` (1..k-1) and ``complementary`` (k or more) tell a reader;
* ``prover``: the attacker's linear program over all of it (scipy's HiGHS);
* ``planner``: primary, complementary, LP repair and pruning (``protect``);
* ``audit``: the proof again, without shortcuts (the test suite runs it).

``docs/disclosure-control.md`` gives the policy, the attacker's assumptions and the costs.
"""

from trainops_reporting.domain.disclosure.audit import audit, rule_narrowed
from trainops_reporting.domain.disclosure.labels import REASONS, Reason, label_interval
from trainops_reporting.domain.disclosure.planner import Pattern, protect
from trainops_reporting.domain.disclosure.prover import TOLERANCE, Prover
from trainops_reporting.domain.disclosure.universe import (
    DEFAULT_PERIOD_LEVELS,
    FEEDBACK_MEASURE,
    HUB,
    MAX_BY,
    MEASURES,
    PERIOD_LEVELS,
    CellId,
    FinestCell,
    Shape,
    Universe,
    build_universe,
    periods_of,
    quarter_of,
    requestable,
    shape_of,
    shapes,
)

__all__ = [
    "DEFAULT_PERIOD_LEVELS",
    "FEEDBACK_MEASURE",
    "HUB",
    "MAX_BY",
    "MEASURES",
    "PERIOD_LEVELS",
    "REASONS",
    "TOLERANCE",
    "CellId",
    "FinestCell",
    "Pattern",
    "Prover",
    "Reason",
    "Shape",
    "Universe",
    "audit",
    "build_universe",
    "label_interval",
    "periods_of",
    "protect",
    "quarter_of",
    "requestable",
    "rule_narrowed",
    "shape_of",
    "shapes",
]
