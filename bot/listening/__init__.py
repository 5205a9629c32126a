"""Listening: suggested flags from watched channels, and routing learned from feedback
(SPEC "Listening"). Neutral: no platform SDK here.

The model's interface is `bot.listening.model` (`Example`, `Score`, `ModelStats`,
`Listener`); this package's `__init__` imports nothing, so that a command which never
scores (most of the CLI) does not load numpy."""
