"""HTTP glue shared by the app: client addresses, /metrics access, media the hub serves."""
