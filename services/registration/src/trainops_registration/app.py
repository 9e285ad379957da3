"""The registration service's composition root: tables, routes, produced stream, consumers."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.followup_scheduler import FollowupScheduler
from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.outbox_relay import MailDelivery
from trainops_registration.api.certificates import CERTIFICATE_PAGES
from trainops_registration.api.certificates import PUBLIC_PATHS as CERTIFICATE_PUBLIC_PATHS
from trainops_registration.api.consent_page import CONSENT_PAGES
from trainops_registration.api.console import TEMPLATE_CONFIG, home
from trainops_registration.api.console_checkin import CHECKIN_PAGES
from trainops_registration.api.console_feeds import FEED_PAGES
from trainops_registration.api.console_import import ImportPages
from trainops_registration.api.console_messages import MESSAGE_PAGES
from trainops_registration.api.console_people import PEOPLE_PAGES
from trainops_registration.api.console_register import REGISTER_PAGES
from trainops_registration.api.console_sessions import SESSION_PAGES
from trainops_registration.api.controllers import RegistrationController
from trainops_registration.api.join_page import JOIN_PAGES
from trainops_registration.api.moving import move_people
from trainops_registration.api.own_link_page import OWN_LINK_PAGES, OWN_LINK_PATHS
from trainops_registration.api.participants import LifecycleController, ParticipantController
from trainops_registration.domain.consent import configured_purposes
from trainops_registration.handlers.events import EVENT_HANDLERS
from trainops_registration.handlers.followups import (
    FollowupPolicy,
    followup_interval,
    followup_pass,
)
from trainops_registration.handlers.lifecycle import RetentionSchedule
from trainops_shared.events.streams import REGISTRATION
from trainops_shared.service import ServiceRuntime, ServiceSpec
from trainops_shared.settings import Settings, SettingsError


def build_spec(settings: Settings) -> ServiceSpec:
    """Registration: coordinators' participants, seats, waitlist and attendance.

    It keeps its own copy of sessions from scheduling's events and never calls scheduling.
    It is the one service that mails participants, since it alone holds their addresses.
    It holds the personal data, each person's sealed with their own key: the keyring is
    installed here, before the migrations (which seal what an older database held in clear).
    """
    if not settings.personal_data_key:
        raise SettingsError("registration needs PERSONAL_DATA_KEY (or PERSONAL_DATA_KEY_FILE)")
    try:
        personal_data.install(settings.personal_data_key)
        configured_purposes(settings.consent_purposes)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    mail = MailDelivery(settings)
    policy = FollowupPolicy.of(settings.mail)
    schedulers: list[FollowupScheduler] = []
    retention: list[RetentionSchedule] = []

    async def start_lifecycle(runtime: ServiceRuntime) -> None:
        await mail.start(runtime.db)
        scheduler = FollowupScheduler(
            runtime.db,
            partial(followup_pass, policy=policy),
            interval=followup_interval(policy),
        )
        await scheduler.start()
        schedulers.append(scheduler)
        if settings.retention_days:
            schedule = RetentionSchedule(
                runtime.db, timedelta(days=settings.retention_days), settings.retention_check_s
            )
            await schedule.start()
            retention.append(schedule)

    async def stop_lifecycle(_: ServiceRuntime) -> None:
        while retention:
            await retention.pop().stop()
        while schedulers:
            await schedulers.pop().stop()
        await mail.stop()

    return ServiceSpec(
        name="registration",
        title="trainops registration",
        description=(
            "Participants, registrations, seats, waiting list and attendance. Coordinators see "
            "and change their own region only; personal data never leaves this service."
        ),
        migrations=MIGRATIONS,
        route_handlers=[
            RegistrationController,
            ParticipantController,
            LifecycleController,
            home,
            *REGISTER_PAGES,
            *PEOPLE_PAGES,
            *SESSION_PAGES,
            *CHECKIN_PAGES,
            *JOIN_PAGES,
            *FEED_PAGES,
            ImportPages,
            *CERTIFICATE_PAGES,
            *OWN_LINK_PAGES,
            *CONSENT_PAGES,
            *MESSAGE_PAGES,
            move_people,
        ],
        public_paths=[
            *CERTIFICATE_PUBLIC_PATHS,
            *OWN_LINK_PATHS,
            "^/join/",
            "^/participant-feeds/",
        ],
        template_config=TEMPLATE_CONFIG,
        home_page=False,
        produces=[REGISTRATION],
        event_handlers=EVENT_HANDLERS,
        # Of the feedback stream only submissions matter here (comments, test answers and
        # survey publications are not read), and the trainer registry of scheduling neither.
        only_handled_subjects=True,
        on_start=start_lifecycle,
        on_stop=stop_lifecycle,
    )
