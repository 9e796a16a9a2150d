"""`flask slack manifest`: the manifest that creates Kintsugi's Slack app (no Slack settings needed)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from .manifest import NAME_MAX, ManifestError, manifest

slack_cli = AppGroup("slack", help="Kintsugi's Slack app.")


@slack_cli.command("manifest")
@click.option(
    "--url", required=True, help="The https address Kintsugi is served at, such as https://kintsugi.example.com."
)
@click.option(
    "--name", default="Kintsugi", show_default=True, help=f"The app's name in Slack (at most {NAME_MAX} characters)."
)
def manifest_command(url: str, name: str) -> None:
    """Print the Slack app manifest (JSON) for the deployment at --url, to paste in Slack's "From a manifest"."""
    try:
        made = manifest(url, name=name)
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(made, indent=2, ensure_ascii=False))
