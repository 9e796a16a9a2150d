"""Adapters between Kintsugi and the tools responders use: pagers, alerting and chat."""

from __future__ import annotations

from flask import Flask

from incidents.admin_links import add_admin_link

from . import cli, receiving, rules, slack, views_admin
from .alertmanager import views as alertmanager_views
from .grafana import views as grafana_views
from .opsgenie import views as opsgenie_views
from .pagerduty import views as pagerduty_views


def init_app(app: Flask) -> None:
    """Check the routing rules, then register the senders' endpoints (exempt from CSRF and from
    browser sessions: they authenticate every delivery)."""
    app.extensions[receiving.RULES] = rules.load_rules(app.config)
    csrf = app.extensions.get("csrf")
    for blueprint in (alertmanager_views.bp, pagerduty_views.bp, opsgenie_views.bp, grafana_views.bp):
        if csrf is not None:
            csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(views_admin.bp)
    slack.init_app(app)
    app.session_interface = receiving.SenderlessSessions()
    add_admin_link(app, "Pager alerts and routing rules", "integrations_admin.alerts")
    add_admin_link(app, "Pager deliveries not understood", "integrations_admin.undecipherable")
    app.cli.add_command(cli.integrations_cli)
