"""Reading what is typed after /incident: pure functions, no app."""

from __future__ import annotations

import pytest

from integrations.slack.translate import (
    Declaration,
    Unreadable,
    escaped,
    first_word,
    incident_number,
    read_declaration,
    read_mention,
    read_severity,
    readable,
    subcommand_of,
    take_incident,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("", "")),
        ("   ", ("", "")),
        ("STATUS 42", ("status", "42")),
        ("sev2", ("sev", "2")),
        ("SEV4 #12", ("sev", "4 #12")),
        ("note  line one\n  line two ", ("note", "line one\n  line two")),
    ],
)
def test_subcommand_of(text: str, expected: tuple[str, str]) -> None:
    assert subcommand_of(text) == expected


def test_first_word_keeps_the_rest_as_typed() -> None:
    shalom = "\u05e9\u05dc\u05d5\u05dd"  # right to left
    assert first_word(f"note\t{shalom}  🔥\n") == ("note", f"{shalom}  🔥")


@pytest.mark.parametrize(
    ("word", "number"),
    [("42", 42), ("#42", 42), ("0", None), ("042", None), ("-1", None), ("4x", None), ("1234567890", None), ("", None)],
)
def test_incident_number(word: str, number: int | None) -> None:
    assert incident_number(word) == number


@pytest.mark.parametrize(
    ("rest", "in_channel", "arguments", "expected"),
    [
        ("42", False, 0, (42, "")),
        ("42", True, 0, (42, "")),
        ("", True, 0, (None, "")),
        ("2", True, 1, (None, "2")),
        ("2", False, 1, (None, "2")),
        ("42 2", True, 1, (42, "2")),
        ("#42 2", True, 1, (42, "2")),
        ("#42", True, 1, (42, "")),
        ("5 pods restarted", True, None, (None, "5 pods restarted")),
        ("5 pods restarted", False, None, (5, "pods restarted")),
        ("#5 pods restarted", True, None, (5, "pods restarted")),
        ("42 <@U1>", False, 1, (42, "<@U1>")),
    ],
)
def test_take_incident(rest: str, in_channel: bool, arguments: int | None, expected: tuple[int | None, str]) -> None:
    assert take_incident(rest, in_incident_channel=in_channel, arguments=arguments) == expected


@pytest.mark.parametrize(("text", "severity"), [("2", "SEV2"), ("sev1", "SEV1"), (" SEV5 ", "SEV5"), ("Sev3", "SEV3")])
def test_read_severity(text: str, severity: str) -> None:
    assert read_severity(text) == severity


@pytest.mark.parametrize("text", ["", "high", "sev", "sev 2", "12", "2 3"])
def test_an_unreadable_severity(text: str) -> None:
    with pytest.raises(Unreadable, match="give a severity of SEV1, SEV2, SEV3, SEV4, SEV5, or its number"):
        read_severity(text)


@pytest.mark.parametrize(
    ("text", "scale", "severity"),
    [
        ("p2", ("P1", "P2", "P3", "P4"), "P2"),
        ("2", ("P1", "P2", "P3", "P4"), "P2"),
        ("sev4", ("P1", "P2", "P3", "P4"), "P4"),
        ("Major", ("critical", "major", "minor"), "major"),
        ("1", ("critical", "major", "minor"), "critical"),
        ("3", ("SEV0", "SEV1", "SEV2", "SEV3"), "SEV3"),  # its name first: SEV3, not the third level
    ],
)
def test_read_severity_of_an_organisation_s_own_scale(text: str, scale: tuple[str, ...], severity: str) -> None:
    assert read_severity(text, scale) == severity


@pytest.mark.parametrize(("text", "scale"), [("5", ("P1", "P2", "P3", "P4")), ("high", ("critical", "major"))])
def test_a_severity_outside_the_scale_names_the_scale(text: str, scale: tuple[str, ...]) -> None:
    with pytest.raises(Unreadable, match=f"give a severity of {', '.join(scale)}"):
        read_severity(text, scale)


def test_a_declaration_reads_levels_with_digits_but_leaves_plain_words_in_the_title() -> None:
    assert read_declaration("db down P1 service:db", ("P1", "P2")) == Declaration("db down", "P1", ("db",))
    assert read_declaration("minor glitch in checkout", ("major", "minor")) == Declaration(
        "minor glitch in checkout", None, ()
    )


@pytest.mark.parametrize(
    ("text", "user_id"), [("<@U123ABC>", "U123ABC"), ("<@U123ABC|alex>", "U123ABC"), (" <@W0ENT01|a b> ", "W0ENT01")]
)
def test_read_mention(text: str, user_id: str) -> None:
    assert read_mention(text) == user_id


@pytest.mark.parametrize("text", ["@alex", "alex", "<#C123|general>", "<!here>", "<@U1> <@U2>", "<@u123>"])
def test_an_unreadable_mention(text: str) -> None:
    with pytest.raises(Unreadable, match="mention the person"):
        read_mention(text)


@pytest.mark.parametrize(
    ("text", "declaration"),
    [
        ("checkout down", Declaration("checkout down", None, ())),
        ("checkout service down", Declaration("checkout service down", None, ())),
        ("sev1 checkout down", Declaration("checkout down", "SEV1", ())),
        ("checkout SEV2 down service:checkout", Declaration("checkout down", "SEV2", ("checkout",))),
        ("db slow services:db,,api service:db sev3 sev3", Declaration("db slow", "SEV3", ("db", "api"))),
        ("Service: is a title word", Declaration("Service: is a title word", None, ())),
        ("sev 2 is two words", Declaration("sev 2 is two words", None, ())),
        ("5xx &amp; <@U1|ana> paged", Declaration("5xx & @ana paged", None, ())),
    ],
)
def test_read_declaration(text: str, declaration: Declaration) -> None:
    assert read_declaration(text) == declaration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sev1", "give the incident a title"),
        ("service:a", "give the incident a title"),
        ("x sev1 sev2", "one severity"),
    ],
)
def test_an_unreadable_declaration(text: str, message: str) -> None:
    with pytest.raises(Unreadable, match=message):
        read_declaration(text)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<@U1|ana> and <@U2>", "@ana and @U2"),
        ("in <#C1|incidents>", "in #incidents"),
        ("<!here> look", "@here look"),
        (
            "<https://x.example/a?b=1&amp;c=2|graph> and <https://y.example>",
            "graph (https://x.example/a?b=1&c=2) and https://y.example",
        ),
        ("a &lt;b&gt; &amp;lt;", "a <b> &lt;"),
    ],
)
def test_readable(text: str, plain: str) -> None:
    assert readable(text) == plain


def test_escaped_is_what_slack_expects() -> None:
    assert escaped("a <b> & c") == "a &lt;b&gt; &amp; c"
