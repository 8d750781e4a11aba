"""CLI subcommands. Each module defines ``register(subparsers)``; ``sunshine.cli`` discovers them.

``register`` adds one subparser and sets ``func`` (``args -> int`` exit code) as its default.
"""
