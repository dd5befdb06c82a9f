"""Rendering replies: buttons or a numbered menu, localised labels, variants, splitting."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from hub.channels.base import Capabilities
from hub.dialogs.engine import MENU_INTENTS
from hub.model import Attachment, Choice, OutboundMessage, Reply
from hub.pipeline.render import Renderer, split_text
from hub.resources import templates_dir

BUTTONS = Capabilities(buttons=True, max_buttons=10)
NO_BUTTONS = Capabilities(buttons=False)
NUMBERED_LINE = re.compile(r"^\d+\. ", re.MULTILINE)

LABELS = {
    "id": [
        "Info layanan",
        "Ambil antrean",
        "Pengaduan (CARE)",
        "Bicara dengan petugas",
        "Langganan info",
    ],
    "en": [
        "Service info",
        "Book a queue",
        "Complaint (CARE)",
        "Talk to an officer",
        "Subscribe to news",
    ],
}
PROMPT = {"id": "Balas dengan angka:", "en": "Reply with a number:"}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(templates_dir())


def menu_reply() -> Reply:
    return Reply(
        "menu",
        choices=tuple(Choice(title=f"@menu.{i}", payload=f"/{i}") for i in MENU_INTENTS),
    )


def render(
    renderer: Renderer,
    reply: Reply,
    *,
    locale: str = "id",
    channel: str = "webchat",
    capabilities: Capabilities = BUTTONS,
) -> list[OutboundMessage]:
    return renderer.render(
        reply, locale=locale, channel=channel, recipient="r-1", capabilities=capabilities
    )


def _write_templates(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "replies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# --- choices -------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["id", "en"])
def test_buttons_keep_structured_choices(renderer: Renderer, locale: str) -> None:
    [message] = render(renderer, menu_reply(), locale=locale)
    assert [c.title for c in message.choices] == LABELS[locale]
    assert [c.payload for c in message.choices] == [f"/{i}" for i in MENU_INTENTS]
    assert not NUMBERED_LINE.search(message.text)
    assert PROMPT[locale] not in message.text
    assert message.locale == locale
    assert message.template_key == "menu"
    assert message.recipient == "r-1"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_buttons_gives_a_numbered_menu(renderer: Renderer, locale: str) -> None:
    [message] = render(renderer, menu_reply(), locale=locale, capabilities=NO_BUTTONS)
    assert message.choices == ()
    expected = "\n".join([PROMPT[locale], *(f"{n}. {t}" for n, t in enumerate(LABELS[locale], 1))])
    assert message.text.endswith("\n\n" + expected)
    # The body of the menu is still there, above the numbered list.
    body = renderer.text("menu", locale, "webchat")
    assert message.text == f"{body}\n\n{expected}"


def test_too_many_choices_for_the_buttons_fall_back_to_numbers(renderer: Renderer) -> None:
    capabilities = Capabilities(buttons=True, max_buttons=3)
    [message] = render(renderer, menu_reply(), capabilities=capabilities)
    assert message.choices == ()
    assert "Balas dengan angka:" in message.text
    assert "4. Bicara dengan petugas" in message.text

    [exact] = render(renderer, menu_reply(), capabilities=Capabilities(buttons=True, max_buttons=5))
    assert len(exact.choices) == 5
    assert not NUMBERED_LINE.search(exact.text)


def test_plain_titles_are_kept_and_at_titles_localised(renderer: Renderer) -> None:
    reply = Reply(
        "menu",
        choices=(Choice("@menu.book_queue", "/book_queue"), Choice("Ya, lanjut", "/yes")),
    )
    [id_message] = render(renderer, reply, locale="id")
    [en_message] = render(renderer, reply, locale="en")
    assert [c.title for c in id_message.choices] == ["Ambil antrean", "Ya, lanjut"]
    assert [c.title for c in en_message.choices] == ["Book a queue", "Ya, lanjut"]
    assert renderer.label("menu.book_queue", "id") == "Ambil antrean"
    assert renderer.label("menu.book_queue", "en") == "Book a queue"


def test_unknown_label_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(KeyError):
        renderer.label("menu.no_such_thing", "en")


def test_reply_without_choices_has_no_menu(renderer: Renderer) -> None:
    [message] = render(renderer, Reply("thanks"), capabilities=NO_BUTTONS)
    assert message.text == 'Sama-sama. Ketik "menu" kapan saja bila perlu bantuan lagi.'
    assert message.choices == ()


# --- templates: channel variants, locales, context -------------------------------------


@pytest.mark.parametrize("locale", ["id", "en"])
def test_channel_variant_is_used_only_for_its_channel(renderer: Renderer, locale: str) -> None:
    [sms] = render(renderer, menu_reply(), locale=locale, channel="sms", capabilities=NO_BUTTONS)
    [web] = render(renderer, menu_reply(), locale=locale, channel="web", capabilities=NO_BUTTONS)
    sms_body = (templates_dir() / "replies" / locale / "menu.sms.j2").read_text().strip()
    assert sms.text.startswith(sms_body + "\n\n" + PROMPT[locale])
    assert not web.text.startswith(sms_body)
    assert web.text.startswith(renderer.text("menu", locale, "web"))
    assert len(sms.text) < len(web.text)


def test_language_wins_over_a_channel_variant(tmp_path: Path) -> None:
    """An English reader on SMS gets English even if only Indonesian has an SMS variant."""
    root = _write_templates(
        tmp_path,
        {
            "id/x.j2": "umum",
            "id/x.sms.j2": "sms-id",
            "en/x.j2": "generic",
        },
    )
    renderer = Renderer(root)
    assert renderer.text("x", "en", "sms") == "generic"
    assert renderer.text("x", "id", "sms") == "sms-id"
    assert renderer.text("x", "id", "web") == "umum"
    assert renderer.text("x", "fr", "sms") == "sms-id"


@pytest.mark.parametrize("locale", ["fr", "xx"])
def test_unknown_locale_falls_back_to_the_default(renderer: Renderer, locale: str) -> None:
    [message] = render(renderer, menu_reply(), locale=locale, capabilities=NO_BUTTONS)
    [expected] = render(renderer, menu_reply(), locale="id", capabilities=NO_BUTTONS)
    assert message.text == expected.text
    assert "Balas dengan angka:" in message.text
    [buttons] = render(renderer, menu_reply(), locale=locale)
    assert [c.title for c in buttons.choices] == LABELS["id"]


def test_default_locale_is_configurable() -> None:
    renderer = Renderer(templates_dir(), default_locale="en")
    [message] = render(renderer, Reply("thanks"), locale="fr")
    assert message.text.startswith("You're welcome.")


def test_context_reaches_the_template(renderer: Renderer) -> None:
    [first] = render(renderer, Reply("greet", {"returning": False}), locale="en")
    [again] = render(renderer, Reply("greet", {"returning": True}), locale="en")
    assert first.text.startswith("Hello, welcome")
    assert again.text == "Hello again! How can I help?"
    [queue] = render(renderer, Reply("not_ready", {"feature": "book_queue"}))
    assert queue.text.startswith("Pengambilan antrean lewat chat belum tersedia.")


def test_missing_context_is_an_error_not_a_blank(renderer: Renderer) -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render(renderer, Reply("greet"))


def test_html_templates_escape_and_text_templates_do_not(tmp_path: Path) -> None:
    root = _write_templates(
        tmp_path,
        {
            "id/x.html.j2": "<p>{{ name }}</p>",
            "id/x.j2": "Nama: {{ name }}",
            "id/_labels.j2": '{% set labels = {"ok": "Oke"} %}',
            "id/_numbered_choices.j2": (
                "Pilih:\n{% for c in choices %}\n{{ loop.index }}. {{ c.title }}\n{% endfor %}"
            ),
        },
    )
    renderer = Renderer(root)
    name = "<script>alert(1)</script>"
    [html] = render(renderer, Reply("x.html", {"name": name}, choices=(Choice("@ok", "/ok"),)))
    [text] = render(renderer, Reply("x", {"name": name}), capabilities=NO_BUTTONS)
    assert html.text == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert html.choices == (Choice("Oke", "/ok"),)
    assert text.text == f"Nama: {name}"


# --- splitting ---------------------------------------------------------------------------


def _squash(text: str) -> str:
    return "".join(text.split())


def test_short_text_is_one_piece() -> None:
    assert split_text("halo", 10) == ["halo"]
    assert split_text("x" * 10, 10) == ["x" * 10]
    assert split_text("", 10) == [""]


def test_split_cuts_at_spaces() -> None:
    text = " ".join(["antrean"] * 20)
    pieces = split_text(text, 30)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 30
        assert piece == piece.strip()
        assert set(piece.split()) == {"antrean"}
    assert " ".join(pieces).split() == text.split()


def test_split_prefers_a_line_break_to_a_space() -> None:
    text = "aaaa bbbb cccc\ndd ee ff gg hh ii jj"
    pieces = split_text(text, 20)
    assert pieces[0] == "aaaa bbbb cccc"
    assert all(len(p) <= 20 for p in pieces)
    assert _squash("".join(pieces)) == _squash(text)


def test_split_prefers_a_paragraph_break() -> None:
    text = "Paragraf pertama yang panjang.\n\nBaris\nsatu dua tiga empat"
    pieces = split_text(text, 40)
    assert pieces == ["Paragraf pertama yang panjang.", "Baris\nsatu dua tiga empat"]


def test_split_cuts_hard_when_there_is_no_space() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_uses_the_full_limit_when_the_next_char_is_a_space() -> None:
    assert split_text("aaaaaa bbbb cccc", 11) == ["aaaaaa bbbb", "cccc"]


def test_split_never_yields_an_empty_piece() -> None:
    assert split_text(" " * 30 + "abc def", 10) == ["abc def"]


@pytest.mark.parametrize("seed", range(30))
def test_split_properties_on_random_text(seed: int) -> None:
    rng = random.Random(seed)
    words = ["KTP", "antrean", "loket", "Badung", "x" * rng.randint(1, 40), "e-KTP,"]
    separators = [" ", " ", " ", "\n", "\n\n", "  "]
    text = "".join(rng.choice(words) + rng.choice(separators) for _ in range(rng.randint(1, 80)))
    text = text.strip()
    limit = rng.randint(8, 120)
    pieces = split_text(text, limit)
    assert pieces
    assert all(0 < len(p) <= limit for p in pieces)
    assert _squash("".join(pieces)) == _squash(text)
    if all(len(w) <= limit // 2 for w in text.split()):
        # Every cut fell on whitespace: no word is broken.
        assert "\n".join(pieces).split() == text.split()


def test_long_reply_becomes_several_messages(renderer: Renderer) -> None:
    capabilities = Capabilities(max_text_length=60, buttons=True, max_buttons=10, attachments=True)
    attachment = Attachment(content_type="image/png", url="https://example.invalid/a.png")
    reply = Reply("menu", choices=menu_reply().choices, attachments=(attachment,))
    messages = renderer.render(
        reply,
        locale="id",
        channel="webchat",
        recipient="r-1",
        capabilities=capabilities,
        reply_to="in-7",
    )
    assert len(messages) > 1
    assert all(len(m.text) <= 60 for m in messages)
    assert messages[0].attachments == (attachment,)
    assert all(m.attachments == () for m in messages[1:])
    assert [c.title for c in messages[-1].choices] == LABELS["id"]
    assert all(m.choices == () for m in messages[:-1])
    assert all(m.reply_to == "in-7" and m.template_key == "menu" for m in messages)
    full = renderer.text("menu", "id", "webchat")
    assert _squash("".join(m.text for m in messages)) == _squash(full)
    # Lines of the menu are not cut in the middle when a line break is near.
    assert all(not m.text.endswith("\n-") and m.text == m.text.strip() for m in messages)


def test_long_numbered_menu_is_split_too(renderer: Renderer) -> None:
    capabilities = Capabilities(max_text_length=80, buttons=False)
    messages = render(renderer, menu_reply(), capabilities=capabilities)
    assert len(messages) > 1
    assert all(len(m.text) <= 80 for m in messages)
    assert all(m.choices == () for m in messages)
    assert messages[-1].text.endswith("5. Langganan info")
