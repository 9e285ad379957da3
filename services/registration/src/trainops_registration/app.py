"""The registration service's composition root: tables, routes, produced stream, consumers."""

from __future__ import annotations

from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.outbox_relay import MailDelivery
from trainops_registration.api.console import TEMPLATE_CONFIG, home
from trainops_registration.api.console_checkin import CHECKIN_PAGES
from trainops_registration.api.console_feeds import FEED_PAGES
from trainops_registration.api.console_import import ImportPages
from trainops_registration.api.console_people import PEOPLE_PAGES
from trainops_registration.api.console_register import REGISTER_PAGES
from trainops_registration.api.console_sessions import SESSION_PAGES
from trainops_registration.api.controllers import RegistrationController
from trainops_registration.api.participants import ParticipantController
from trainops_registration.handlers.events import EVENT_HANDLERS
from trainops_shared.events.streams import REGISTRATION
from trainops_shared.service import ServiceRuntime, ServiceSpec
from trainops_shared.settings import Settings


def build_spec(settings: Settings) -> ServiceSpec:
    """Registration: coordinators' participants, seats, waitlist and attendance.

    It keeps its own copy of sessions from scheduling's events and never calls scheduling.
    It is the one service that mails participants, since it alone holds their addresses.
    """
    mail = MailDelivery(settings)

    async def start_mail(runtime: ServiceRuntime) -> None:
        await mail.start(runtime.db)

    async def stop_mail(_: ServiceRuntime) -> None:
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
            home,
            *REGISTER_PAGES,
            *PEOPLE_PAGES,
            *SESSION_PAGES,
            *CHECKIN_PAGES,
            *FEED_PAGES,
            ImportPages,
        ],
        template_config=TEMPLATE_CONFIG,
        home_page=False,
        produces=[REGISTRATION],
        event_handlers=EVENT_HANDLERS,
        public_paths=["^/join/", "^/participant-feeds/"],
        on_start=start_mail,
        on_stop=stop_mail,
    )
