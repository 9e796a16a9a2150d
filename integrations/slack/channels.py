"""A channel of its own for each incident declared (KINTSUGI_SLACK_CREATE_CHANNELS): opened by the outbox's
worker after the declaration, named from KINTSUGI_SLACK_CHANNEL_NAME, linked to the incident, with its
declarer and commander invited. Linking it posts its headline (see headline).

Applied at least once: a retry after a crash finds the channel it opened before (Slack answers
`name_taken`, and the channel of that name is the app's and speaks of no other incident) instead of
opening a second one or failing for ever.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from incidents.accounts.service_chat import SLACK_ISSUER
from incidents.chat.queries import IncidentFacts, incident_facts, incident_of_channel
from incidents.chat.service import link_opened_channel
from incidents.database import get_session
from incidents.events import Event, IncidentDeclared
from incidents.models import IncidentRole, Source, Status

from .channel_names import render
from .outbound import PROVIDER, error_of, worker_client
from .settings import SlackSettings, settings_of

log = logging.getLogger(__name__)
# Names tried when the incident's name is taken by a channel that is not its own: inc-42-db, inc-42-db-2 ...
NAMES_TRIED = 5
LIST_PAGE = 500
# Invitations that cannot succeed, whoever retries: the person is gone, a guest, or in the channel.
INVITE_SETTLED = frozenset(
    {
        "already_in_channel",
        "cant_invite_self",
        "user_not_found",
        "user_disabled",
        "user_is_deleted",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "cant_invite",
        "ura_max_channels",
    }
)


class NoFreeName(RuntimeError):
    """Every name tried for the incident's channel belongs to another channel."""


def on_declared(event: Event) -> None:
    """Open the incident's channel, link it, and invite its declarer and commander."""
    assert isinstance(event, IncidentDeclared)
    settings = settings_of(current_app)
    if not settings.create_channels or event.source == Source.IMPORT.value:
        return  # an imported record of the past needs no channel
    session = get_session()
    facts = incident_facts(session, incident_id=event.incident_id, issuer=SLACK_ISSUER)
    if facts is None or facts.status not in (Status.INVESTIGATING, Status.MITIGATED):
        return
    client = worker_client(settings)
    channel_id = open_channel(client, session, settings, facts)
    link_opened_channel(
        session, incident_id=facts.id, provider=PROVIDER, channel_id=channel_id, declarer_id=event.actor_id
    )
    invite(client, channel_id, facts)


def open_channel(client: WebClient, session: Session, settings: SlackSettings, facts: IncidentFacts) -> str:
    """The id of the incident's channel: opened now (private for a restricted incident), or found when a try
    before this one opened it."""
    bot_user: str | None = None
    for suffix in range(1, NAMES_TRIED + 1):
        name = render(
            settings.channel_name,
            incident_id=facts.id,
            title=facts.title,
            severity=facts.severity,
            declared_on=facts.declared_at.date(),
            suffix=suffix,
        )
        try:
            answer = client.conversations_create(name=name, is_private=facts.restricted)
            return str(answer["channel"]["id"])
        except SlackApiError as exc:
            if error_of(exc) != "name_taken":
                raise
        if bot_user is None:
            bot_user = str(client.auth_test()["user_id"])
        found = channel_named(client, name)
        if found is not None and _opened_for(session, found, bot_user, facts.id):
            return str(found["id"])
        log.info("the channel name %s is another channel's; incident %s tries the next", name, facts.id)
    raise NoFreeName(f"the first {NAMES_TRIED} names of incident {facts.id}'s channel are other channels'")


def channel_named(client: WebClient, name: str) -> dict[str, Any] | None:
    """The channel with this name that the app can see (public, or private with the app in it), if any."""
    cursor = ""
    while True:
        page = client.conversations_list(types="public_channel,private_channel", limit=LIST_PAGE, cursor=cursor or None)
        for channel in page.get("channels") or []:
            if channel.get("name") == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return None


def _opened_for(session: Session, channel: dict[str, Any], bot_user: str, incident_id: int) -> bool:
    # The app opened it, it is in use, and it speaks of this incident or of none yet.
    if channel.get("creator") != bot_user or channel.get("is_archived"):
        return False
    linked = incident_of_channel(session, provider=PROVIDER, channel_id=str(channel["id"]))
    return linked in (None, incident_id)


def invite(client: WebClient, channel_id: str, facts: IncidentFacts) -> None:
    """Invite the declarer and the commander, when Slack knows them; one already in is fine."""
    invited = [facts.declared_by, *facts.roles.get(IncidentRole.COMMANDER, [])]
    members = list(dict.fromkeys(p.chat_id for p in invited if p is not None and p.chat_id))
    for member in members:
        try:
            client.conversations_invite(channel=channel_id, users=member)
        except SlackApiError as exc:
            if error_of(exc) not in INVITE_SETTLED:
                raise
            if error_of(exc) != "already_in_channel":
                log.warning("%s was not invited to %s: Slack says %s", member, channel_id, error_of(exc))
