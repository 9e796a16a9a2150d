"""Keep what the pre-fill wrote in each post-mortem section, and turn the times it froze into times.

Publishing asks that a person wrote something in a required section beyond the pre-fill, so the
pre-fill is kept beside the body. A section nobody has saved since the post-mortem started
(version 1) still holds exactly what the pre-fill wrote; it is kept as its pre-fill. In those
sections the times the pre-fill froze as text in one zone ("Fri 2026-11-20 10:00 UTC", in the
incident's reference zone or UTC) become <time> elements every reader sees in their own zone, and
an empty pre-filled line ("- Diagnosed: ") says "not known yet". A time whose words do not match
the zone it was written in is left as it was. Sections people wrote in are left as they wrote them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from incidents.postmortems import times
from incidents.postmortems.times import UNKNOWN
from incidents.rendering import stored_html

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 500
EMPTY_LINE = re.compile(r"^(\s*[-*] [^:\n]{1,80}):[ \t]*(?:—)?[ \t]*$", re.M)


def thawed(body: str, zones: list[str]) -> str:
    """The body with each frozen time written as a time, and each empty pre-filled line as not known yet."""
    body = times.thawed(body, zones)
    body = EMPTY_LINE.sub(lambda m: f"{m.group(1)}: {UNKNOWN}", body)
    return re.sub(r"\b(Detected) —, — after impact began\.", rf"\1: {UNKNOWN}.", body)


def upgrade() -> None:
    with op.batch_alter_table("postmortem_sections") as batch_op:
        batch_op.add_column(sa.Column("prefill", sa.Text(), nullable=True))
    connection = op.get_bind()
    sections = sa.table(
        "postmortem_sections",
        sa.column("id", sa.Integer),
        sa.column("postmortem_id", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("prefill", sa.Text),
        sa.column("version", sa.Integer),
    )
    postmortems = sa.table("postmortems", sa.column("id", sa.Integer), sa.column("incident_id", sa.Integer))
    incidents = sa.table("incidents", sa.column("id", sa.Integer), sa.column("reference_timezone", sa.String))
    change = (
        sa.update(sections)
        .where(sections.c.id == sa.bindparam("section_id"))
        .values(body=sa.bindparam("text"), prefill=sa.bindparam("text"), body_html=sa.bindparam("html"))
    )
    last = 0
    while True:
        batch = connection.execute(
            sa.select(sections.c.id, sections.c.body, incidents.c.reference_timezone)
            .select_from(sections)
            .join(postmortems, postmortems.c.id == sections.c.postmortem_id)
            .join(incidents, incidents.c.id == postmortems.c.incident_id)
            .where(sections.c.version == 1, sections.c.id > last)
            .order_by(sections.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        values = []
        for section_id, body, reference in batch:
            text = thawed(body or "", [zone for zone in (reference, "UTC") if zone])
            values.append({"section_id": section_id, "text": text, "html": stored_html(text)})
        connection.execute(change, values)
        last = batch[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("postmortem_sections") as batch_op:
        batch_op.drop_column("prefill")
