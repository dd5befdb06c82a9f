"""Keys and the NIK vault: what the hub encrypts with, and how."""
