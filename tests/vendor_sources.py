"""RapidPro and Twilio Studio connectors pointed at the local fake servers, as every test builds
them: polite but fast (tiny waits, recorded), on a fixed clock, and without a catalogue, so each
sync asks the writer it runs in (a desktop cache or the team server) for the versions stored so
far."""

from __future__ import annotations

from datetime import timedelta

from flowdesk.core.sources.rapidpro import RapidProSource
from flowdesk.core.sources.twilio import TwilioSource
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import Sleeps, polite
from tests.fake_rapidpro_server import BASE, TOKEN, FakeRapidPro
from tests.fake_twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TWILIO_PAGE_SIZE = 6
# "Now" for every RapidPro sync of the tests: a flow without a revision number is labelled
# "Imported <now> UTC", so two syncs a minute boundary apart (a loaded machine) would name it
# differently.
NOW = BASE + timedelta(days=2)


def rapidpro_source(fake: FakeRapidPro, token: str = TOKEN, sleep=None, clock=None):
    return RapidProSource(
        fake.url,
        token,
        politeness=polite(),
        sleep=sleep or Sleeps(),
        clock=clock or (lambda: NOW),
    )


def twilio_source(fake: FakeTwilio, token: str = AUTH_TOKEN, sleep=None) -> TwilioSource:
    return TwilioSource(
        ACCOUNT_SID,
        token,
        url=fake.url,
        politeness=polite(),
        page_size=TWILIO_PAGE_SIZE,
        sleep=sleep or Sleeps(),
    )


def sync(db, source, notes: list[str] | None = None):
    """One desktop sync that must complete; its progress notes go to ``notes`` when given."""
    progress = None if notes is None else (lambda p: notes.append(p.note))
    report = SyncEngine(db).run(source, progress=progress)
    assert report.outcome == "completed", report.message
    return report


def statuses(db) -> dict[str, str]:
    return dict(db.execute("SELECT id, status FROM runs").fetchall())
