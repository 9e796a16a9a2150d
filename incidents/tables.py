"""Every table of the domain in one metadata, for what needs them all: migrations and a test's fresh schema."""

from __future__ import annotations

from sqlalchemy import MetaData

from .accounts import models as account_models
from .alerts import models as alert_models
from .chat import models as chat_models
from .models import Base
from .outbox import models as outbox_models
from .postmortems import models as postmortem_models

# Importing a room's models is what adds its tables to Base.metadata.
ROOM_MODELS = (account_models, alert_models, chat_models, outbox_models, postmortem_models)


def all_tables() -> MetaData:
    """The metadata holding every table of every room."""
    return Base.metadata
