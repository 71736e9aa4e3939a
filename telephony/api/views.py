"""`POST /api/v1/daily/connect`: a web or mobile client asks for a Daily session with a bot.

Either for a pushed DAILY lead (`lead_id`) or straight from a template and payload.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from calls.models import Call
from config.api.errors import Conflict
from config.api.permissions import ResourceView
from config.exceptions import ApplicationError
from config.types import Resource
from telephony.providers.daily.client import DailyRefusedError, DailyUnavailableError
from telephony.providers.daily.sessions import (
    DailyNotConfiguredError,
    DailySession,
    DailySessionNotFoundError,
    DailySessionPermissionError,
    DailySessionStateError,
    daily_session_start,
    daily_template_resolve,
)
from templates_app.exceptions import TemplateValidationError

# The leads service that starts a lead's session, by name: leads builds on telephony
# (ARCHITECTURE.md, dependency direction), so telephony cannot import it.
LEAD_DAILY_CONNECT = "leads.daily.lead_daily_connect"
# Fields of the template form; a lead brings its own template, payload and mode.
TEMPLATE_FORM = ("template", "merchant", "payload", "execution_mode")


class DailyUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Daily is unavailable; try again shortly."
    default_code = "provider_unavailable"


class DailyRefused(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "Daily refused to make the room or token."
    default_code = "provider_refused"


def _payload_field(path: str) -> str:
    # Template issues name JSON paths ("$.order_id"); the API names fields ("payload.order_id").
    return "payload" if path == "$" else f"payload.{path.removeprefix('$.')}"


def _nul_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "non_field_errors"] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _nul_paths(key, path) + _nul_paths(item, f"{path}.{key}".lstrip("."))
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in _nul_paths(item, f"{path}.{index}".lstrip("."))
        ]
    return []


class DailyConnectApi(ResourceView):
    resource = Resource.LEAD

    class InputSerializer(serializers.Serializer[Any]):
        lead_id = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="A pushed DAILY or DAILY_TEST lead waiting for its client; "
            "or send `template` and `payload` instead.",
        )
        template = serializers.CharField(
            required=False, help_text="The template's slug or id (without `lead_id`)."
        )
        merchant = serializers.SlugField(
            required=False, help_text="Merchant slug; needed only if the slug exists in several."
        )
        payload = serializers.DictField(
            required=False, default=dict, help_text="Values of the template's variables."
        )
        execution_mode = serializers.ChoiceField(
            choices=[Call.ExecutionMode.DAILY, Call.ExecutionMode.DAILY_TEST],
            default=Call.ExecutionMode.DAILY,
        )
        recording = serializers.BooleanField(
            default=False, help_text="Record the session with Daily's cloud recording."
        )

        def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
            # PostgreSQL's JSONB cannot hold U+0000; name where it is instead of failing later.
            nul = {
                path: ["NUL characters (\\u0000) cannot be stored."] for path in _nul_paths(payload)
            }
            if nul:
                raise serializers.ValidationError(nul, code="null_character")
            return payload

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "lead_id" not in attrs:
                if "template" not in attrs:
                    raise serializers.ValidationError(
                        {"template": [self.fields["template"].error_messages["required"]]},
                        code="required",
                    )
                return attrs
            sent = [name for name in TEMPLATE_FORM if name in self.initial_data]
            if sent:
                raise serializers.ValidationError(
                    {name: ["Not with lead_id: the lead's own is used."] for name in sent},
                    code="not_with_lead",
                )
            return attrs

    class OutputSerializer(serializers.Serializer[Any]):
        room_url = serializers.URLField()
        token = serializers.CharField(help_text="The client's meeting token for the room.")
        call_id = serializers.IntegerField()
        lead_id = serializers.IntegerField(required=False, help_text="The lead connected to.")
        expires_at = serializers.DateTimeField(help_text="When the room and token expire.")

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                description="Invalid input, or the lead is not DAILY/DAILY_TEST; "
                "`fields` names each problem."
            ),
            403: OpenApiResponse(description="The caller's role may not start calls."),
            404: OpenApiResponse(description="No such lead in the caller's merchants."),
            409: OpenApiResponse(
                description="The merchant has no Daily credential, or the lead is already "
                "connected or no longer waits."
            ),
            502: OpenApiResponse(description="Daily refused the room or token."),
            503: OpenApiResponse(description="Daily is unavailable; retry."),
        },
    )
    def post(self, request: Request) -> Response:
        """Start a session: a call, a Daily room and the client's token; a bot joins the room."""
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            session = self._start(request, data)
        except TemplateValidationError as error:
            raise exceptions.ValidationError(
                {_payload_field(issue.path): [issue.message] for issue in error.issues}
            ) from error
        except DailySessionPermissionError as error:
            raise exceptions.PermissionDenied(error.message) from error
        except DailySessionNotFoundError as error:
            raise exceptions.NotFound(error.message) from error
        except (DailyNotConfiguredError, DailySessionStateError) as error:
            raise Conflict(error.message) from error
        except ApplicationError as error:
            raise exceptions.ValidationError(
                {error.field or "non_field_errors": [error.message]}
            ) from error
        except DailyUnavailableError as error:
            raise DailyUnavailable() from error
        except DailyRefusedError as error:
            raise DailyRefused(f"Daily refused: {error.info or error.error}") from error
        body = {
            "room_url": session.room_url,
            "token": session.token,
            "call_id": session.call_id,
            "expires_at": session.expires_at,
        }
        if "lead_id" in data:
            body["lead_id"] = data["lead_id"]
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)

    def _start(self, request: Request, data: dict[str, Any]) -> DailySession:
        if "lead_id" in data:
            session: DailySession = import_string(LEAD_DAILY_CONNECT)(
                user=request.user, lead_id=data["lead_id"], is_recording=data["recording"]
            )
            return session
        template = daily_template_resolve(
            user=request.user, template=data["template"], merchant=data.get("merchant", "")
        )
        return daily_session_start(
            template=template,
            execution_mode=data["execution_mode"],
            payload=data["payload"],
            is_recording=data["recording"],
        )
