"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.accounts.types import Account, SignInPayload
from schema.payloads import object_payload, payload_mutation
from services.accounts import service
from services.policy import authorize

SignOutPayload = object_payload("SignOutPayload", "signed_out", bool, "True: the token is revoked.")


@registry.mutation
@strawberry.type
class AccountMutations:
    @payload_mutation(
        SignInPayload,
        description="Sign in with an e-mail address and a password; returns "
        "a bearer token. Same error for an unknown address and a wrong "
        "password.",
    )
    async def sign_in(
        self,
        info: strawberry.Info,
        email: Annotated[str, strawberry.argument(description="E-mail address.")],
        password: Annotated[str, strawberry.argument(description="Password.")],
    ) -> SignInPayload:
        ctx = info.context
        account, token = await service.sign_in(
            email,
            password=password,
            throttle=ctx.throttle,
            address=ctx.client_ip,
            attempts=service.SignInAttempts(
                per_email=ctx.settings.sign_in_attempts_per_email,
                per_address=ctx.settings.sign_in_attempts_per_address,
            ),
        )
        own_account = Account.from_model(account)
        own_account.own = True
        return SignInPayload(
            token=token, expires_at=await service.get_token_expiry(token), account=own_account
        )

    @payload_mutation(
        SignOutPayload, description="Revoke the bearer token this request was sent with."
    )
    async def sign_out(self, info: strawberry.Info) -> bool:
        ctx = info.context
        authorize(ctx.viewer, "session.sign_out")
        if ctx.credentials:
            await service.sign_out(ctx.credentials)
        return True
