"""Local stand-ins of the Slack Web API, the Bot Connector, OpenID, a CRM, and signed
request builders: the demo runs on them, and so do the tests and benchmarks."""
