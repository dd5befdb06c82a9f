"""HTTP glue of the app: /metrics access, media the hub serves."""
