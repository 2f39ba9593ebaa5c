"""Sign-in and sign-out; administrators' management of accounts; setting a new password
with the token of a reset link."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry

from mailer.sending import send_password_reset
from mailer.transport import DeliveryError
from schema import registry
from schema.accounts.types import Account, PasswordResetSent, RevokeTokensResult, SignInPayload
from schema.newsletters.runtime import transport_for
from schema.payloads import object_payload, payload_mutation
from schema.relay import decode_id
from services.accounts import admin, service
from services.errors import Unavailable
from services.policy import authorize
from services.subscribers.signing import signing_keys

logger = logging.getLogger("tec.accounts")

AccountID = Annotated[strawberry.ID, strawberry.argument(description="ID of the account.")]

SignOutPayload = object_payload("SignOutPayload", "signed_out", bool, "True: the token is revoked.")
AccountPayload = object_payload("AccountPayload", "account", Account, "The account as changed.")
PasswordResetPayload = object_payload(
    "PasswordResetPayload", "reset", PasswordResetSent, "The reset link sent."
)
RevokeTokensPayload = object_payload(
    "RevokeTokensPayload", "result", RevokeTokensResult, "The sessions ended."
)


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
                per_email=ctx.settings.limits.sign_in_attempts_per_email,
                per_address=ctx.settings.limits.sign_in_attempts_per_address,
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

    @payload_mutation(
        AccountPayload,
        description="Deactivate an account (administrators): it can no longer sign in and "
        "its tokens are refused at once. Not one's own account.",
    )
    async def deactivate_account(self, info: strawberry.Info, id: AccountID) -> Account:
        found = await admin.deactivate_account(info.context.viewer, decode_id(id, "Account"))
        return Account.from_model(found)

    @payload_mutation(
        AccountPayload,
        description="Let a deactivated account sign in again (administrators); its former "
        "tokens stay revoked.",
    )
    async def reactivate_account(self, info: strawberry.Info, id: AccountID) -> Account:
        found = await admin.reactivate_account(info.context.viewer, decode_id(id, "Account"))
        return Account.from_model(found)

    @payload_mutation(
        PasswordResetPayload,
        description="E-mail the account a link to choose a new password, valid 24 hours and "
        "once (administrators). The current password works until a new one is chosen.",
    )
    async def reset_password(self, info: strawberry.Info, id: AccountID) -> PasswordResetSent:
        ctx = info.context
        keys = signing_keys(ctx.settings)
        reset = await admin.start_password_reset(ctx.viewer, decode_id(id, "Account"), keys=keys)
        transport = transport_for(ctx)
        try:
            await send_password_reset(
                reset.account, reset.token, settings=ctx.settings, transport=transport
            )
        except DeliveryError as error:
            logger.warning("password-reset e-mail not sent: %s", error)
            raise Unavailable(
                "L'e-mail n'a pas pu être envoyé : réessayez dans quelques minutes."
            ) from None
        finally:
            await transport.close()
        return PasswordResetSent(
            account=Account.from_model(reset.account), expires_at=reset.expires_at
        )

    @payload_mutation(
        RevokeTokensPayload,
        description="End every session of an account (administrators): all its bearer "
        "tokens are refused from now on; it may sign in again.",
    )
    async def revoke_tokens(self, info: strawberry.Info, id: AccountID) -> RevokeTokensResult:
        account, revoked = await admin.revoke_tokens(info.context.viewer, decode_id(id, "Account"))
        return RevokeTokensResult(account=Account.from_model(account), revoked=revoked)

    @payload_mutation(
        AccountPayload,
        description="Choose a new password with the token of a reset link (no sign-in "
        "needed). The link then stops working, and every session of the account ends.",
    )
    async def set_password(
        self,
        info: strawberry.Info,
        token: Annotated[str, strawberry.argument(description="Token of the e-mailed link.")],
        password: Annotated[
            str, strawberry.argument(description="New password (12 to 256 characters).")
        ],
    ) -> Account:
        ctx = info.context
        authorize(ctx.viewer, "account.set_password")
        found = await admin.reset_password_with_token(
            signing_keys(ctx.settings), token, password=password
        )
        own = Account.from_model(found)
        own.own = True
        return own
