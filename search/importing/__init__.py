"""`flask import`: Markdown post-mortems written elsewhere, recorded as closed incidents with published reviews.

Reading is pure (files, front matter, blocks, moments, reader: text in, `ImportedPostmortem` out);
recording is one call per file to the domain's `record_past_incident`, which writes through the same
cores as every other path and commits once.
"""
