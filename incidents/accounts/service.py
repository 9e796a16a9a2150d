"""Use cases on accounts: users, passwords, profiles and personal API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import validation
from ..access import ensure_admin
from ..errors import AuthenticationRequired, Conflict, InvalidInput, NotFound, PermissionDenied
from ..models import INT_MAX, NAME_MAX, Role, User, utcnow
from .models import ApiToken

log = logging.getLogger(__name__)
TOKEN_PREFIX = "kin_"
PASSWORD_MIN = 12
DEACTIVATED = "This account is deactivated. Ask an admin to reactivate it."
_hasher = PasswordHasher()


def create_user(
    session: Session,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.RESPONDER,
    password: str | None = None,
    timezone: str | None = None,
) -> User:
    """Create an account; the email must be new."""
    user = add_user(session, email=email, name=name, role=role, password=password, timezone=timezone)
    session.commit()
    return user


def add_user(
    session: Session,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.RESPONDER,
    password: str | None = None,
    timezone: str | None = None,
) -> User:
    """Add a new account to the session without committing, for a use case that commits once at its end."""
    email = validation.text(email, field="email", limit=320, required=True).lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    if user_by_email(session, email) is not None:
        raise Conflict(f"a user with email {email} already exists", field="email")
    user = User(
        email=email,
        name=validation.text(name or email.split("@")[0], field="name", limit=NAME_MAX, required=True),
        role=role,
        timezone=validation.zone(timezone) if timezone else None,
        password_hash=_hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()  # fills in the column defaults (is_active, created_at) the caller may read
    return user


def invite_user(
    session: Session, *, actor: User, email: str, name: str | None = None, role: Role = Role.RESPONDER
) -> tuple[User, str]:
    """An admin adds an account; its first password is generated and returned once."""
    ensure_admin(actor)
    password = secrets.token_urlsafe(12)
    return create_user(session, email=email, name=name, role=role, password=password), password


def change_account(
    session: Session, *, actor: User, user_id: int, role: Role | None = None, is_active: bool | None = None
) -> User:
    """An admin changes someone's role or deactivates them; the last active admin stays."""
    ensure_admin(actor)
    user = _user(session, user_id)
    if role is not None:
        user.role = role
    if is_active is not None:
        if user.is_active and not is_active:
            user.session_generation += 1  # a deactivated person's open sessions end now
        user.is_active = is_active
    session.flush()
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.is_active.is_(True))
    )
    if not admins:
        session.rollback()
        raise Conflict("this would leave no active admin; make someone else admin first")
    session.commit()
    return user


def set_password(session: Session, *, user_id: int, password: str) -> None:
    """Replace a user's password."""
    user = _user(session, user_id)
    user.password_hash = _hash_password(password)
    user.session_generation += 1  # sessions begun with the old password end
    session.commit()


def change_own_password(session: Session, *, user_id: int, current_password: str, new_password: str) -> User:
    """A person replaces their own password, giving the current one; their other sessions end."""
    user = _user(session, user_id)
    if user.password_hash is None:
        raise Conflict("Your account has no password: you sign in through single sign-on.", field="current_password")
    if not _verify(user.password_hash, current_password):
        # 401, not 422: the page counts it as a failed sign-in, so a borrowed session guesses no faster.
        raise AuthenticationRequired("The current password is not right.", field="current_password")
    if new_password == current_password:
        raise InvalidInput("The new password is the same as the current one.", field="new_password")
    user.password_hash = _hash_password(new_password)
    user.session_generation += 1
    session.commit()
    return user


def reset_password(session: Session, *, actor: User, user_id: int) -> tuple[User, str]:
    """An admin gives someone a generated password, returned this once; the person's open sessions end."""
    ensure_admin(actor)
    user = _user(session, user_id)
    if user.id == actor.id:
        raise Conflict("Change your own password on your profile page, with your current one.")
    password = secrets.token_urlsafe(12)
    user.password_hash = _hash_password(password)
    user.session_generation += 1
    session.commit()
    # No audit table yet: the log is the record of who reset whose password, and when.
    log.warning("password of account %s (%s) reset by admin %s (%s)", user.id, user.email, actor.id, actor.email)
    return user, password


def end_sessions(session: Session, *, user_id: int) -> None:
    """Sign a person out of every browser session they have: a cookie copied before now is refused."""
    user = _user(session, user_id)
    user.session_generation = User.session_generation + 1
    session.commit()


def update_profile(session: Session, *, user_id: int, **changes: str | None) -> User:
    """Change a user's display name or time zone (empty or None: follow the browser's zone)."""
    user = _user(session, user_id)
    unknown = set(changes) - {"name", "timezone"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"unknown field {name}", field=name)
    if "name" in changes:
        user.name = validation.text(changes["name"] or "", field="name", limit=NAME_MAX, required=True)
    if "timezone" in changes:
        zone = (changes["timezone"] or "").strip()
        user.timezone = validation.zone(zone) if zone else None
    session.commit()
    return user


def authenticate_password(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, or None; PermissionDenied when the account is deactivated.

    Deactivation is told only once the password matched, so it tells a stranger nothing.
    """
    user = user_by_email(session, email)
    if user is None or user.password_hash is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if not user.is_active:
        raise PermissionDenied(DEACTIVATED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.commit()
    return user


def create_api_token(session: Session, *, user_id: int, name: str = "api") -> tuple[ApiToken, str]:
    """Issue a personal API token; the secret is returned once and only its hash is stored."""
    user = _user(session, user_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=validation.text(name, field="name", limit=NAME_MAX, required=True),
        token_hash=_token_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
    )
    session.add(token)
    session.commit()
    return token, secret


def revoke_api_token(session: Session, *, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens; it stops working at once."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()
    return token


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user a presented token belongs to, or None when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    return token.user


def active_user(session: Session, user_id: int) -> User | None:
    """The account with this id while it is active; None when there is none or it was deactivated."""
    if not 0 < user_id <= INT_MAX:
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def user_by_email(session: Session, email: str) -> User | None:
    """The user with this email, compared without case."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def person_known_as(session: Session, name: str) -> User | None:
    """The active responder a sender names (an Opsgenie username is an email, a PagerDuty agent a name):
    by email, else the one account of that exact name; None when unknown or not one person."""
    name = name.strip()
    if not name:
        return None
    if "@" in name:
        found = user_by_email(session, name)
        return found if found is not None and found.is_active and found.can_write else None
    named = session.scalars(
        select(User).where(func.lower(User.name) == name.lower(), User.is_active.is_(True)).limit(2)
    ).all()
    return named[0] if len(named) == 1 and named[0].can_write else None


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _hash_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"a password needs at least {PASSWORD_MIN} characters", field="password")
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    # Verifying against this keeps a login for an unknown email as slow as one for a known email.
    return _hasher.hash("kintsugi-timing-equaliser")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(secret: str) -> str:
    # Tokens are long random secrets, so a fast hash suffices and keeps each API call cheap.
    return hashlib.sha256(secret.encode()).hexdigest()
