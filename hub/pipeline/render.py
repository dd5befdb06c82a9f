"""Turning a dialog's ``Reply`` into text a channel can carry.

Templates live in ``templates/replies/<locale>/<key>.j2``; a channel may have its
own variant ``<key>.<channel>.j2`` (short SMS wording, say). Choices become
buttons where the channel has them, otherwise a numbered menu the citizen
answers with a digit. Attachments a dialog names by a hub path (``/media/...``)
get the hub's public URL, since providers fetch media by absolute URL; a
channel without attachments (SMS: no MMS) gets the text alone.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jinja2

from hub.channels.base import Capabilities
from hub.model import Attachment, Choice, OutboundMessage, Reply


class Renderer:
    def __init__(self, templates: Path, default_locale: str = "id", public_url: str = "") -> None:
        self.default_locale = default_locale
        self.public_url = public_url.rstrip("/")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates / "replies"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def _template(self, key: str, locale: str, channel: str) -> jinja2.Template:
        # The citizen's language matters more than a channel's variant wording.
        names = [
            name
            for loc in (locale, self.default_locale)
            for name in (f"{loc}/{key}.{channel}.j2", f"{loc}/{key}.j2")
        ]
        return self.env.select_template(names)

    def label(self, key: str, locale: str) -> str:
        """A short label (button title) from ``<locale>/_labels.j2``'s ``labels`` dict."""
        for loc in (locale, self.default_locale):
            try:
                template = self.env.get_template(f"{loc}/_labels.j2")
            except jinja2.TemplateNotFound:
                continue
            labels = getattr(template.module, "labels", {})
            if key in labels:
                return str(labels[key])
        raise KeyError(f"no label {key!r} for locale {locale!r}")

    def _localise(self, choice: Choice, locale: str) -> Choice:
        """``@key`` is a label; ``@key|arg|...`` fills the label's ``{0}``, ``{1}``...

        An argument that is itself ``@key`` is a label too, so a dialog builds "Sen 30
        Nov" as ``@choice.date|@weekday.0|30|@month.11`` without holding any wording.
        """
        if not choice.title.startswith("@"):
            return choice
        key, *args = choice.title[1:].split("|")
        title = self.label(key, locale)
        if args:
            title = title.format(*(self._argument(arg, locale) for arg in args))
        return Choice(title=title, payload=choice.payload)

    def _argument(self, arg: str, locale: str) -> str:
        if not arg.startswith("@"):
            return arg
        try:
            return self.label(arg[1:], locale)
        except KeyError:
            # A session configured without a label: its own name is still readable.
            return arg.rpartition(".")[2].capitalize()

    def _template_variables(self, reply: Reply, locale: str) -> tuple[str, ...]:
        """The values of the provider template sent instead of this reply outside
        WhatsApp's 24-hour window, one per line of ``<key>.vars.j2``; () when the reply
        has no such companion (the channel then sends the whole text as ``{{1}}``)."""
        names = [f"{loc}/{reply.template}.vars.j2" for loc in (locale, self.default_locale)]
        try:
            template = self.env.select_template(names)
        except jinja2.TemplatesNotFound:
            return ()
        lines = template.render(**dict(reply.context)).strip().splitlines()
        return tuple(line.strip() for line in lines if line.strip())

    def text(self, key: str, locale: str, channel: str, **context: object) -> str:
        return self._template(key, locale, channel).render(**context).strip()

    def menu(self, choices: tuple[Choice, ...], locale: str, channel: str) -> str:
        """The numbered menu a channel without buttons shows for ``choices``."""
        localised = tuple(self._localise(c, locale) for c in choices)
        return self.text("_numbered_choices", locale, channel, choices=localised)

    def render(
        self,
        reply: Reply,
        *,
        locale: str,
        channel: str,
        recipient: str,
        capabilities: Capabilities,
        reply_to: str | None = None,
    ) -> list[OutboundMessage]:
        """One reply as one or more messages (long text is split on line breaks)."""
        body = self.text(reply.template, locale, channel, **dict(reply.context))
        if reply.lead is not None:
            lead = self.text(reply.lead.template, locale, channel, **dict(reply.lead.context))
            body = f"{lead}\n{body}" if body else lead
        choices = tuple(self._localise(c, locale) for c in reply.choices)
        if choices and not (capabilities.buttons and len(choices) <= capabilities.max_buttons):
            menu = self.text("_numbered_choices", locale, channel, choices=choices)
            body = f"{body}\n\n{menu}" if body else menu
            choices = ()
        parts = split_text(body, capabilities.max_text_length)
        variables = self._template_variables(reply, locale)
        attachments = (
            tuple(self._absolute(a) for a in reply.attachments) if capabilities.attachments else ()
        )
        return [
            OutboundMessage(
                channel=channel,
                recipient=recipient,
                text=part,
                choices=choices if index == len(parts) - 1 else (),
                attachments=attachments if index == 0 else (),
                template_key=reply.template,
                template_variables=variables,
                locale=locale,
                reply_to=reply_to,
            )
            for index, part in enumerate(parts)
        ]

    def _absolute(self, attachment: Attachment) -> Attachment:
        """A hub path (``/media/qr/...``) as the public URL providers fetch it from."""
        if not attachment.url.startswith("/"):
            return attachment
        return dataclasses.replace(attachment, url=self.public_url + attachment.url)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraph, line or word ends."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        # A cut at index ``limit`` still gives a piece of ``limit`` characters.
        window = rest[: limit + 1]
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                break
        else:
            cut = limit
        piece = rest[:cut].rstrip()
        if piece:
            parts.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts or [""]
