"""HTTP glue of the app: /metrics access, media the hub serves, server-drawn charts,
the one-click unsubscribe page of announcement mails."""
