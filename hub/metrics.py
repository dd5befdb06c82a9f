"""Prometheus metrics, one registry per app so tests and processes never share state."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "omnihub_inbound_messages",
            "Inbound messages accepted, per channel",
            ["channel"],
            registry=self.registry,
        )
        self.not_answered = Counter(
            "omnihub_inbound_not_answered",
            "Mail a channel took but gave the bot no answer to (auto-replies, lists, daemons,"
            " loops held for officers), per channel and reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "omnihub_inbound_duplicates",
            "Inbound messages dropped as provider re-deliveries, per channel",
            ["channel"],
            registry=self.registry,
        )
        self.outbound = Counter(
            "omnihub_outbound_messages",
            "Outbound send attempts by result (sent, retry, failed), per channel",
            ["channel", "result"],
            registry=self.registry,
        )
        self.delivery_updates = Counter(
            "omnihub_delivery_updates",
            "Delivery status callbacks from providers, per channel and status",
            ["channel", "status"],
            registry=self.registry,
        )
        self.pipeline_seconds = Histogram(
            "omnihub_pipeline_seconds",
            "Time from an inbound message's arrival to its replies being queued",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.pipeline_failures = Counter(
            "omnihub_pipeline_failures",
            "Inbound messages the pipeline failed on (kept, marked failed)",
            registry=self.registry,
        )
        self.nlu_intents = Counter(
            "omnihub_nlu_intents",
            "Messages understood, per intent",
            ["intent"],
            registry=self.registry,
        )
        self.nlu_clarifications = Counter(
            "omnihub_nlu_clarifications",
            "Messages the NLU was unsure about, answered with a clarifying question",
            registry=self.registry,
        )
        self.nlu_fallbacks = Counter(
            "omnihub_nlu_fallbacks",
            "Rasa calls that failed (timeout, down, bad answer) and fell back to the built-in one",
            ["reason"],
            registry=self.registry,
        )
        self.sla_breaches = Counter(
            "omnihub_care_sla_breaches",
            "CARE tickets whose deadline passed (each stage counted once), by agency",
            ["agency"],
            registry=self.registry,
        )
        self.handoffs = Counter(
            "omnihub_handoffs",
            "Conversations handed to officers, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "omnihub_outbox_depth",
            "Outbound messages waiting to be sent",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
