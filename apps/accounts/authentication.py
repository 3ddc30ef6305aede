"""JWT authentication that also checks the token's device session is alive, in one query."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.tokens import Token

from apps.accounts.selectors import user_for_session
from apps.core.request_context import user_id_var


class SessionJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:
        try:
            user_id = int(validated_token["user_id"])
            session_id = int(validated_token["sid"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        user = user_for_session(user_id=user_id, session_id=session_id)
        if user is None:
            raise AuthenticationFailed("The session has ended. Log in again.", code="session_ended")
        user_id_var.set(user.pk)
        return user
