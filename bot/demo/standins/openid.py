"""A local OpenID metadata + JWKS server on 127.0.0.1, standing in for
login.botframework.com, and the RS256 tokens the Bot Connector would send with an activity.

    async with OpenIdServer() as idp:
        settings: CROSSTALK_TEAMS_OPENID_METADATA_URL=idp.metadata_url
        headers = {"Authorization": "Bearer " + idp.token(APP_ID, service_url)}

The signing key is published with `endorsements: ["msteams"]`, as Microsoft publishes the
keys the Teams channel signs with. Each server has its own random path, because the SDK
caches metadata per URL for a day and a port may be reused by a later test.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.demo.standins.serving import Standin

ISSUER = "https://api.botframework.com"


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name for the whole test run (generating one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OpenIdServer(Standin):
    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        super().__init__()
        self.kid = f"key-{uuid.uuid4().hex[:8]}"
        self.endorsements = list(endorsements)
        self.prefix = f"/{uuid.uuid4().hex}"
        self.requests = 0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(self.prefix + "/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get(self.prefix + "/v1/.well-known/keys", self._keys)
        return app

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def metadata_url(self) -> str:
        return self.base + "/v1/.well-known/openidconfiguration"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.base + "/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests += 1
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(_key("signing").public_key()))
        jwk.update(kid=self.kid, use="sig", endorsements=self.endorsements)
        return web.json_response({"keys": [jwk]})

    def token(
        self,
        audience: str,
        service_url: str,
        *,
        expires_in: int = 3600,
        issuer: str = ISSUER,
        signed_by: str = "signing",
        kid: str | None = None,
    ) -> str:
        """A token as the Bot Connector sends: `signed_by="other"` signs with a key that is
        not published (under the published kid).

        Dated on the wall clock, not the test's: the botbuilder SDK checks `nbf`/`exp`
        against the system time, and no clock of ours reaches inside it."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + expires_in,
        }
        headers = {"kid": kid or self.kid, "typ": "JWT"}
        return jwt.encode(claims, _key(signed_by), algorithm="RS256", headers=headers)
