"""Inbound Teams tokens, checked by the Bot Framework SDK, with its known gaps closed.

The SDK answers a missing Authorization header, an expired token, a token signed by an
unknown key or a malformed one with assorted exceptions (a 500 through CloudAdapter).
Here authentication runs on its own, before the turn: anything it raises is a 401, except
a failure to fetch the signing keys (503: the caller may retry, nothing is wrong with it).
It also runs in a worker thread, because the SDK fetches OpenID metadata and keys with a
blocking `requests.get` that would otherwise stall every other request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import requests
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ServiceClientCredentialsFactory,
)

from config.settings import Settings

BOT_FRAMEWORK = "https://api.botframework.com"


class Unauthorized(Exception):
    pass


class KeysUnavailable(Exception):
    pass


@dataclass
class SdkConfig:
    """The configuration object the SDK reads its settings from (attribute names are its)."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    OAUTH_URL: str | None = None
    VALIDATE_AUTHORITY: bool = True


def sdk_config(settings: Settings) -> SdkConfig:
    app_id = settings.microsoft_app_id
    config = SdkConfig(
        APP_ID=app_id,
        APP_PASSWORD=settings.microsoft_app_password.get_secret_value(),
        # Without an app id there is nothing to check a tenant against: the emulator's mode.
        APP_TYPE=settings.microsoft_app_type if app_id else "MultiTenant",
        APP_TENANTID=settings.microsoft_app_tenant_id,
    )
    metadata = settings.teams_openid_metadata_url
    if metadata:
        # Any of these switches the SDK to its "parameterized" mode, which needs them all.
        login = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
        if (
            settings.microsoft_app_type.lower() == "singletenant"
            and settings.microsoft_app_tenant_id
        ):
            login = f"https://login.microsoftonline.com/{settings.microsoft_app_tenant_id}"
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = metadata
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = metadata
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = BOT_FRAMEWORK
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = login
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = BOT_FRAMEWORK
        config.OAUTH_URL = BOT_FRAMEWORK
    return config


def credentials_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    """Raises ValueError (naming the missing setting) when the credentials are incomplete."""
    try:
        return ConfigurationServiceClientCredentialFactory(sdk_config(settings))
    except Exception as exc:  # the SDK raises bare Exception for a missing property
        raise ValueError(f"Teams credentials: {exc}") from exc


def authentication(
    settings: Settings, factory: ServiceClientCredentialsFactory
) -> BotFrameworkAuthentication:
    return ConfigurationBotFrameworkAuthentication(
        sdk_config(settings), credentials_factory=factory
    )


async def authenticate(
    auth: BotFrameworkAuthentication, activity: Activity, header: str | None
) -> AuthenticateRequestResult:
    def run() -> Any:
        # A fresh event loop in a worker thread: the SDK's coroutine blocks on requests.
        return asyncio.run(auth.authenticate_request(activity, header or None))

    try:
        result = await asyncio.to_thread(run)
    except requests.RequestException as exc:
        raise KeysUnavailable(f"the token signing keys could not be fetched: {exc}") from exc
    except Exception as exc:  # every other failure of the check means: not authenticated
        raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(result, AuthenticateRequestResult) or result.claims_identity is None:
        raise Unauthorized("no identity")
    if not result.claims_identity.is_authenticated:
        raise Unauthorized("not authenticated")
    return result
