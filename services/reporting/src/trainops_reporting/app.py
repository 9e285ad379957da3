"""Composition root of the reporting service: a pure consumer of all three event streams."""

from __future__ import annotations

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.api.console import TEMPLATE_CONFIG, donor_page, home
from trainops_reporting.api.console_snapshots import CONSOLE_SNAPSHOT_ROUTES
from trainops_reporting.api.controllers import get_donor_report, get_summary
from trainops_reporting.api.evidence import ROUTES as EVIDENCE_ROUTES
from trainops_reporting.api.evidence_console import evidence_page
from trainops_reporting.api.params import load_policy
from trainops_reporting.api.snapshots import SNAPSHOT_ROUTES
from trainops_reporting.domain.projection import CATCH_UP_BATCH, STREAM_ORDER
from trainops_reporting.handlers.batches import apply_batch
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.rebuild import adopt_at_start
from trainops_shared.service import ServiceSpec
from trainops_shared.settings import Settings


def build_spec(settings: Settings) -> ServiceSpec:
    """The reporting service: projections of every event, summary and donor reports.

    It produces nothing (``produces=[]``); the streams it reads are declared by their producers
    (and, idempotently, by the consumer at start-up, so it can start first). The disclosure
    settings (``REPORT_MIN_CELL``, ``REPORT_PERIODS``) are checked here, so a bad value stops
    the service at start-up.
    """
    load_policy()
    return ServiceSpec(
        name="reporting",
        title="trainops reporting",
        description=(
            "Read model of every programme event; summary figures and disaggregated donor "
            "reports with small-cell suppression, as JSON or CSV."
        ),
        migrations=MIGRATIONS,
        route_handlers=[
            get_summary,
            get_donor_report,
            *SNAPSHOT_ROUTES,
            home,
            donor_page,
            *CONSOLE_SNAPSHOT_ROUTES,
            *EVIDENCE_ROUTES,
            evidence_page,
        ],
        template_config=TEMPLATE_CONFIG,
        home_page=False,
        produces=[],
        event_handlers=EVENT_HANDLERS,
        batch_handler=apply_batch,
        stream_order=STREAM_ORDER,
        catch_up_batch_size=CATCH_UP_BATCH,
        before_start=adopt_at_start,
    )
