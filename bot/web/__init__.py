"""The managers' dashboard (SPEC "Dashboard"): server-rendered pages with SVG charts, sign-in
by one-time link, CSV exports and `GET /api/roi` (bot.web.routes mounts them).

This package's own import is free of the web framework: `bot.web.links` is neutral and is
called from the chat handlers and the CLI.
"""
