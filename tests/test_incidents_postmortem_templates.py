"""Post-mortem templates as files: the built-in ones, an organisation's own, and clear errors for broken ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import declare

from app import create_app
from incidents.postmortems.blameless import check_language
from incidents.postmortems.templates import PREFILLS, TemplateError, load_templates, parse_template

BUILT_IN = Path(__file__).resolve().parent.parent / "templates" / "postmortems"


def test_the_built_in_templates_cover_the_practice() -> None:
    templates = load_templates([BUILT_IN])
    assert set(templates) == {"handbook", "google-sre", "near-miss", "security", "written-report"}
    handbook = templates["handbook"]
    titles = [s.title for s in handbook.sections]
    assert "Why were we surprised?" in titles and "Where we got lucky" in titles
    assert {s.prefill for s in handbook.sections} - {None} == set(PREFILLS)
    assert templates["near-miss"].suggested_for == ("SEV4", "SEV5") and len(templates["near-miss"].sections) <= 5
    for template in templates.values():
        for section in template.sections:
            # The product's own words pass its own check.
            assert check_language(section.prompt) == [], (template.key, section.key)


def test_a_started_postmortem_has_no_blameless_findings_of_its_own(make_caller: Any) -> None:
    caller = make_caller("responder")
    for template in ("handbook", "google-sre", "near-miss", "security", "written-report"):
        incident = declare(caller, summary="Checkout failed.")
        postmortem = caller.post(f"/api/incidents/{incident['id']}/postmortem", {"template": template}).get_json()
        for section in postmortem["sections"]:
            assert check_language(section["body"]) == [], (template, section["key"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n[[sections]]\nkey = "a"\ntitle = \n', "broken.toml: Invalid value (at line 4, column 9)"),
        (
            'name = "x"\ncolour = "red"\n[[sections]]\nkey = "a"\ntitle = "A"\n',
            "broken.toml, line 2: unknown field 'colour'",
        ),
        (
            'name = "x"\n[[sections]]\nkey = "a"\ntitle = "A"\n\n[[sections]]\nkey = "a"\ntitle = "B"\n',
            "broken.toml, line 3: section 2: key 'a' is used twice",
        ),
        (
            'name = "x"\n[[sections]]\nkey = "a"\ntitle = "A"\nprefill = "weather"\n',
            "broken.toml, line 5: section 'a': prefill must be one of",
        ),
        (
            'name = "x"\n[[sections]]\nkey = "Bad Key"\ntitle = "A"\n',
            "broken.toml, line 3: section 1: key must be lowercase",
        ),
        (
            'name = "x"\n[[sections]]\nkey = "a"\ntitle = "A"\nrequired = "yes"\n',
            "broken.toml, line 3: section 'a': required must be true or false",
        ),
        ('description = "no name"\n[[sections]]\nkey = "a"\ntitle = "A"\n', "broken.toml: a template needs a name"),
        ('name = "x"\n', "broken.toml: a template needs at least one [[sections]]"),
    ],
)
def test_a_broken_template_is_named_with_its_line(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template("broken", text, "broken.toml")
    assert str(caught.value).startswith(message)


def test_an_organisations_folder_adds_and_replaces_templates_and_is_checked_at_start(tmp_path: Path) -> None:
    own = tmp_path / "ours"
    own.mkdir()
    (own / "near-miss.toml").write_text(
        'name = "Our near miss"\nsuggested_for = ["SEV5"]\n[[sections]]\nkey = "what"\ntitle = "What"\n'
    )
    (own / "vendor.toml").write_text(
        'name = "Vendor outage"\n[[sections]]\nkey = "vendor"\ntitle = "Vendor"\nrequired = true\n'
    )
    templates = load_templates([BUILT_IN, own])
    assert templates["near-miss"].name == "Our near miss" and templates["vendor"].sections[0].required
    (own / "broken.toml").write_text('name = "x"\n[[sections]]\nkey = "a"\ntitle = "A"\nprompt = 5\n')
    config = {
        "TESTING": True,
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
        "POSTMORTEM_TEMPLATES": str(own),
    }
    with pytest.raises(TemplateError, match=r"broken\.toml, line 3: section 'a': prompt must be text"):
        create_app(config)
    with pytest.raises(TemplateError, match="does not exist"):
        create_app({**config, "POSTMORTEM_TEMPLATES": str(tmp_path / "missing")})
    with pytest.raises(TemplateError, match="ACTION_ITEM_DUE_DAYS"):
        create_app({**config, "POSTMORTEM_TEMPLATES": str(BUILT_IN), "ACTION_ITEM_DUE_DAYS": "countermeasure=soon"})
