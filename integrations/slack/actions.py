"""The ids of what Kintsugi puts in Slack to be clicked or submitted: who builds a message or modal and
who answers its clicks agree on them here."""

from __future__ import annotations

# A button on the headline message; its value is "<incident id>:<status>" (mitigated, resolved, ...).
STATUS_ACTION = "kintsugi_incident_status"
# A static select on the headline message; each option's value is "<incident id>:<severity>" (SEV2).
SEVERITY_ACTION = "kintsugi_incident_severity"
# A link button to the incident page: Slack still sends its click, which is answered with nothing.
OPEN_ACTION = "kintsugi_incident_open"
# A button that imports a linked channel's history into the incident; value "<incident id>".
IMPORT_ACTION = "kintsugi_import_channel"
# The callback_id of the modal that `/incident declare` with no text opens.
DECLARE_VIEW = "kintsugi_declare"
