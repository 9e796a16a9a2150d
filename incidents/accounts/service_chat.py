"""Use case: know a chat workspace's member as a Kintsugi account, by the email the workspace vouches for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import validation
from ..errors import InvalidInput
from ..models import NAME_MAX, Role, User
from .models import ExternalIdentity
from .service import add_user, user_by_email

SUBJECT_MAX = 255
SLACK_ISSUER = "https://slack.com"
# Identities a chat workspace vouches for: they say who typed a command, not how someone signs in.
CHAT_ISSUERS = frozenset({SLACK_ISSUER})


def person_known_to_chat(session: Session, *, issuer: str, subject: str) -> User | None:
    """The account a chat member was matched to before, or None when they are new to Kintsugi."""
    return session.scalar(
        select(User)
        .join(ExternalIdentity, ExternalIdentity.user_id == User.id)
        .where(ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject)
    )


def remember_chat_person(session: Session, *, issuer: str, subject: str, email: str, name: str | None) -> User:
    """Match a chat member to the account with their email, or to a new responder account, and remember it.

    Later commands find them by (issuer, subject) without asking the chat workspace again.
    """
    if issuer not in CHAT_ISSUERS:
        raise InvalidInput(f"{issuer[:100]!r} is not a chat workspace Kintsugi knows", field="issuer")
    subject = validation.text(subject, field="subject", limit=SUBJECT_MAX, required=True)
    known = person_known_to_chat(session, issuer=issuer, subject=subject)
    if known is not None:
        return known
    user = user_by_email(session, email)
    if user is None:
        shown = (name or "").strip()[:NAME_MAX] or None
        user = add_user(session, email=email, name=shown, role=Role.RESPONDER)
    session.add(ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject))
    try:
        session.commit()
    except IntegrityError:
        # The same member's first two commands at once: the other one remembered them first.
        session.rollback()
        known = person_known_to_chat(session, issuer=issuer, subject=subject) or user_by_email(session, email)
        if known is None:
            raise
        return known
    return user
