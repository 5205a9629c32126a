"""The Slack stand-ins' parts: the Web API (``web_*``, assembled in ``slack_api.FakeSlack``)
and signed inbound requests (``signing``, ``payloads``, ``events``, ``interactions``,
re-exported by ``slack_requests``)."""
