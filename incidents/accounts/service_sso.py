"""Use case: sign in with an identity an OpenID Connect provider vouched for."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, PermissionDenied
from ..models import NAME_MAX, Role, User, utcnow
from .models import ExternalIdentity
from .service import DEACTIVATED, add_user, user_by_email
from .service_chat import CHAT_ISSUERS


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a validated ID token says about the person signing in."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None


def sign_in_with_identity(
    session: Session,
    *,
    identity: VerifiedIdentity,
    default_role: Role = Role.RESPONDER,
    allowed_domains: Collection[str] = (),
) -> User:
    """The account of this external identity: found by (issuer, subject), else linked by verified email, else made."""
    try:
        return _sign_in(session, identity=identity, default_role=default_role, allowed_domains=allowed_domains)
    except IntegrityError as exc:
        # Two first sign-ins of one person at once: the unique (issuer, subject) and email let one win.
        session.rollback()
        raise Conflict("Another sign-in for this account happened at the same moment. Try again.") from exc


def _sign_in(
    session: Session, *, identity: VerifiedIdentity, default_role: Role, allowed_domains: Collection[str]
) -> User:
    email = (identity.email or "").strip().lower() or None
    _check_domain(email, identity.email_verified, allowed_domains)
    link = session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == identity.issuer, ExternalIdentity.subject == identity.subject
        )
    )
    if link is None:
        user = _account_to_link(session, identity=identity, email=email, default_role=default_role)
        link = ExternalIdentity(user=user, issuer=identity.issuer, subject=identity.subject)
        session.add(link)
    else:
        # Found by the stable pair: an email that changed at the provider changes nothing here.
        user = link.user
    if not user.is_active:
        session.rollback()
        raise PermissionDenied(DEACTIVATED)
    link.last_sign_in_at = utcnow()
    session.commit()
    return user


def linked_user_ids(session: Session) -> set[int]:
    """The ids of accounts that sign in through an external identity (not those a chat workspace knows)."""
    signing_in = ExternalIdentity.issuer.not_in(CHAT_ISSUERS)
    return set(session.scalars(select(ExternalIdentity.user_id).where(signing_in).distinct()))


def last_sign_ins(session: Session) -> dict[int, datetime | None]:
    """Each account linked to an external identity (chat workspaces aside): its latest sign-in there, if any."""
    signing_in = ExternalIdentity.issuer.not_in(CHAT_ISSUERS)
    rows = session.execute(
        select(ExternalIdentity.user_id, func.max(ExternalIdentity.last_sign_in_at))
        .where(signing_in)
        .group_by(ExternalIdentity.user_id)
    )
    return {user_id: when for user_id, when in rows}


def _check_domain(email: str | None, verified: bool, allowed_domains: Collection[str]) -> None:
    if not allowed_domains:
        return
    listed = ", ".join(sorted(allowed_domains))
    # An unconfirmed address is whatever the person typed, so its domain proves nothing.
    if email is None or not verified:
        raise PermissionDenied(
            f"Single sign-on here is limited to confirmed addresses at {listed}, "
            "and your provider did not confirm your email address."
        )
    if email.rpartition("@")[2] not in allowed_domains:
        raise PermissionDenied(f"Single sign-on here is limited to addresses at {listed}; {email} is not one of them.")


def _account_to_link(session: Session, *, identity: VerifiedIdentity, email: str | None, default_role: Role) -> User:
    if email is None:
        raise InvalidInput("Your sign-in provider sent no email address, so no account could be found or made for you.")
    user = user_by_email(session, email)
    if user is None:
        return add_user(session, email=email, name=_name(identity.name, email), role=default_role)
    if not identity.email_verified:
        # Linking on an address the provider has not confirmed would hand the account to whoever typed it.
        raise Conflict(
            f"An account for {email} already exists, but your provider has not confirmed that this address "
            "is yours, so it was not linked. Ask an admin."
        )
    other = session.scalar(
        select(ExternalIdentity).where(ExternalIdentity.user_id == user.id, ExternalIdentity.issuer == identity.issuer)
    )
    if other is not None:
        raise Conflict(f"The account for {email} is already linked to another identity at this provider. Ask an admin.")
    return user


def _name(claimed: str | None, email: str) -> str:
    name = " ".join((claimed or "").split())[:NAME_MAX]
    return name or email.split("@")[0]
