"""Process settings read from the environment (SPEC "Environment").

Built once by the CLI and passed down; nothing reads the environment at import time.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///crosstalk.db", validation_alias="CROSSTALK_DATABASE_URL"
    )
    config_path: str = Field(default="crosstalk.toml", validation_alias="CROSSTALK_CONFIG")
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    crm_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="CROSSTALK_CRM_WEBHOOK_SECRET"
    )
    microsoft_app_id: str = Field(default="", validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr = Field(
        default=SecretStr(""), validation_alias="MICROSOFT_APP_PASSWORD"
    )
    microsoft_app_tenant_id: str = Field(default="", validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(
        default="MultiTenant",
        validation_alias=AliasChoices("MICROSOFT_APP_TYPE"),
    )
    # Where inbound Teams tokens' signing keys are published; empty means Microsoft's own.
    # Tests point it at a local OpenID/JWKS server.
    teams_openid_metadata_url: str = Field(
        default="", validation_alias="CROSSTALK_TEAMS_OPENID_METADATA_URL"
    )
    # Microsoft Graph, read with the RSC permission ChannelMessage.Read.Group: the text of
    # a message flagged by @mention, and an earlier post looked for by its marker.
    teams_graph_url: str = Field(
        default="https://graph.microsoft.com/v1.0/", validation_alias="CROSSTALK_TEAMS_GRAPH_URL"
    )

    # The server's public address (https://crosstalk.example.com): dashboard sign-in links
    # point there; without it no link can be made.
    public_url: str = Field(default="", validation_alias="CROSSTALK_PUBLIC_URL")
    # Signs the dashboard's session cookies. Unset: a random key per process (logged as a
    # WARNING), so sessions end at a restart and do not cross replicas.
    session_secret: SecretStr | None = Field(
        default=None, validation_alias="CROSSTALK_SESSION_SECRET"
    )

    # Tests and demos only: the process clock starts at this instant (ISO 8601, with its
    # zone) and runs at the real pace, so a subprocess shares its test's calendar.
    clock_start: datetime | None = Field(default=None, validation_alias="CROSSTALK_CLOCK_START")

    @property
    def slack_enabled(self) -> bool:
        """Slack is on with a bot token and a way in: HTTP (signing secret) or Socket Mode."""
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def teams_authenticated(self) -> bool:
        """With an app id, inbound Teams tokens are checked and outbound calls carry one;
        without, the Bot Framework Emulator's unauthenticated mode (loopback only)."""
        return bool(self.microsoft_app_id)

    @property
    def slack_api_base(self) -> str:
        url = self.slack_api_url
        return url if url.endswith("/") else url + "/"
