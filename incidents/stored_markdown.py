"""Every Markdown text stored with its HTML, rendered again: after an upgrade that adds the HTML
columns, and when an admin changes what rendering allows (KINTSUGI_IMAGE_HOSTS)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .rendering import stored_html

# (table, Markdown column, its HTML column): every text a page shows as Markdown.
TEXTS = (
    ("incidents", "summary", "summary_html"),
    ("timeline_entries", "text", "text_html"),
    ("postmortem_sections", "body", "body_html"),
)
BATCH = 500


def render_again(connection: Connection) -> dict[str, int]:
    """Render every stored text again, in batches by id; how many rows of each table were written."""
    written = {}
    for table, text, html in TEXTS:
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column(text, sa.Text), sa.column(html, sa.Text))
        change = sa.update(rows).where(rows.c.id == sa.bindparam("row_id")).values({html: sa.bindparam("rendered")})
        last, written[table] = 0, 0
        while True:
            batch = connection.execute(
                sa.select(rows.c.id, rows.c[text]).where(rows.c.id > last).order_by(rows.c.id).limit(BATCH)
            ).all()
            if not batch:
                break
            connection.execute(change, [{"row_id": row_id, "rendered": stored_html(value)} for row_id, value in batch])
            written[table] += len(batch)
            last = batch[-1][0]
    return written
