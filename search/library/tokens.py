"""Personal feed tokens: a feed reader cannot sign in, so a feed's URL carries a token naming its reader.

A token is the user's id signed with the app's secret key, salted for feeds only (it opens nothing
else), and stable, so the URL a person pasted into a feed reader keeps working. It reads as its user
reads now: a deactivated or deleted account's token opens nothing, and a role taken away is gone
from the feed too. Changing the secret key ends every token.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from incidents.accounts.service import active_user
from incidents.models import User

SALT = "kintsugi.library-feed"
# Far longer than any token this makes: anything longer is not read at all.
TOKEN_MAX = 200


def feed_token(user: User) -> str:
    """The user's feed token."""
    return _signer().dumps(user.id)


def feed_reader(session: Session, token: str) -> User | None:
    """The active user a feed token names; None when it is forged, mangled, or its account is gone or
    deactivated."""
    if not token or len(token) > TOKEN_MAX:
        return None
    try:
        user_id = _signer().loads(token)
    except BadSignature:
        return None
    if type(user_id) is not int:
        return None
    return active_user(session, user_id)


def _signer() -> URLSafeSerializer:
    secret = current_app.secret_key
    if not secret:
        raise RuntimeError("feed tokens need the app's SECRET_KEY")
    return URLSafeSerializer(secret, salt=SALT)
