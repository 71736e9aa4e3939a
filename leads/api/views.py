"""The lead API: push (one, bulk, CSV), read, cancel and dispatch now. Views only translate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from calls.selectors import call_list_for_lead
from config.api.errors import Conflict, PayloadTooLarge
from config.api.pagination import CursorListMixin
from config.api.permissions import ResourceView
from config.api.schema import error_response
from config.ids import parse_id
from config.types import Action, Resource
from leads.api import examples
from leads.api.serializers import (
    LeadBulkInputSerializer,
    LeadBulkOutputSerializer,
    LeadCancelInputSerializer,
    LeadDetailSerializer,
    LeadImportInputSerializer,
    LeadImportSerializer,
    LeadInputSerializer,
    LeadListFilterSerializer,
    LeadSerializer,
)
from leads.exceptions import (
    IdempotencyConflictError,
    LeadPermissionError,
    LeadRequestTooLargeError,
    LeadStateError,
    LeadValidationError,
)
from leads.imports import lead_import_start
from leads.models import Lead, LeadImport
from leads.selectors import lead_get, lead_import_errors, lead_import_get, lead_list
from leads.services import (
    actor_label,
    lead_cancel,
    lead_create,
    lead_dispatch_now,
    leads_bulk_create,
)

# Each operation lists the errors it can answer, so each has an example in the schema.
_INVALID = {400: error_response("Invalid input; `fields` names each problem.")}
_FORBIDDEN = {403: error_response("The caller's role may not do this.")}
_NOT_FOUND = {404: error_response("No such lead (or import) among the caller's merchants.")}
_TOO_LARGE = {413: error_response("The body, bulk or CSV is over its limit.")}
_PUSH_CONFLICT = {409: error_response("The idempotency key was used for a different lead.")}
_STATE_CONFLICT = {409: error_response("The lead's status does not allow this.")}


@contextmanager
def service_errors() -> Iterator[None]:
    """Answer the services' refusals in the API's one error format."""
    try:
        yield
    except LeadValidationError as error:
        raise exceptions.ValidationError(
            {
                path: [ErrorDetail(problem.message, code=problem.code) for problem in problems]
                for path, problems in error.problems.items()
            }
        ) from error
    except (IdempotencyConflictError, LeadStateError) as error:
        raise Conflict(error.message) from error
    except LeadPermissionError as error:
        raise exceptions.PermissionDenied(error.message) from error
    except LeadRequestTooLargeError as error:
        raise PayloadTooLarge(f"{error.field}: {error.message}") from error


def _json_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
    return request.data


class LeadListApi(CursorListMixin, ResourceView):
    resource = Resource.LEAD

    @extend_schema(
        parameters=[LeadListFilterSerializer],
        responses={200: LeadSerializer(many=True), **_INVALID, **_FORBIDDEN},
        examples=examples.LEAD_LIST,
    )
    def get(self, request: Request) -> Response:
        """The caller's leads, newest first, with cursor pagination."""
        filters = LeadListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        template = data.get("template", "")
        phone = data.get("phone", "").strip()
        leads = lead_list(
            user=request.user,
            status=data.get("status"),
            template_id=parse_id(template),
            template_slug=None if parse_id(template) is not None else template,
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            # An unencoded + arrives as a space, which strip() removed.
            phone=f"+{phone.lstrip('+')}" if phone else None,
        ).select_related("merchant", "template_version")
        return self.paginated_response(request, leads, LeadSerializer)

    @extend_schema(
        request=LeadInputSerializer,
        responses={
            201: LeadSerializer,
            200: LeadSerializer,
            **_INVALID,
            **_FORBIDDEN,
            **_PUSH_CONFLICT,
        },
        examples=examples.LEAD_PUSH,
    )
    def post(self, request: Request) -> Response:
        """Push one lead. The same idempotency key with the same body answers 200 with it."""
        with service_errors():
            lead, created = lead_create(
                user=request.user,
                data=_json_object(request),
                idempotency_key=request.headers.get("Idempotency-Key", ""),
            )
        return Response(
            LeadSerializer(lead).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LeadBulkApi(ResourceView):
    resource = Resource.LEAD

    @extend_schema(
        request=LeadBulkInputSerializer,
        responses={
            201: LeadBulkOutputSerializer,
            200: LeadBulkOutputSerializer,
            **_INVALID,
            **_FORBIDDEN,
            **_TOO_LARGE,
        },
        examples=examples.LEAD_BULK,
    )
    def post(self, request: Request) -> Response:
        """Push up to 10,000 leads, all or nothing; repeated idempotency keys come back as they were."""
        items = _json_object(request).get("leads")
        if not isinstance(items, list):
            raise exceptions.ValidationError({"leads": ["A list of leads."]})
        with service_errors():
            results = leads_bulk_create(user=request.user, leads=items)
        created = sum(1 for _, is_new in results if is_new)
        body = {
            "created": created,
            "existing": len(results) - created,
            # Built by hand: serializing 10,000 rows through DRF fields would dominate the time.
            "leads": [
                {
                    "id": lead.pk,
                    "status": lead.status,
                    "idempotency_key": lead.idempotency_key,
                    "created": is_new,
                }
                for lead, is_new in results
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class _OneLeadView(ResourceView):
    resource = Resource.LEAD

    def lead_or_404(self, request: Request, lead_id: int) -> Lead:
        lead = lead_get(user=request.user, lead_id=lead_id)
        if lead is None:
            raise exceptions.NotFound("No such lead.")
        self.check_merchant_action(request, merchant_id=lead.merchant_id)
        return lead


class LeadDetailApi(_OneLeadView):
    @extend_schema(
        responses={200: LeadDetailSerializer, **_FORBIDDEN, **_NOT_FOUND},
        examples=examples.LEAD_DETAIL,
    )
    def get(self, request: Request, lead_id: int) -> Response:
        """One lead with its status history and its calls."""
        lead = self.lead_or_404(request, lead_id)
        calls = call_list_for_lead(lead_id=lead.pk)
        return Response(LeadDetailSerializer(lead, context={"calls": calls}).data)


class LeadCancelApi(_OneLeadView):
    action = Action.CHANGE

    @extend_schema(
        request=LeadCancelInputSerializer,
        responses={200: LeadSerializer, **_INVALID, **_FORBIDDEN, **_NOT_FOUND, **_STATE_CONFLICT},
        examples=examples.LEAD_CANCEL,
    )
    def post(self, request: Request, lead_id: int) -> Response:
        """Cancel a lead that is not being called (cancelling twice is harmless)."""
        lead = self.lead_or_404(request, lead_id)
        data = LeadCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            lead = lead_cancel(
                lead_id=lead.pk,
                actor=actor_label(request.user),
                reason=data.validated_data.get("reason", ""),
            )
        return Response(LeadSerializer(lead).data)


class LeadDispatchNowApi(_OneLeadView):
    action = Action.CHANGE

    @extend_schema(
        request=None,
        responses={200: LeadSerializer, **_FORBIDDEN, **_NOT_FOUND, **_STATE_CONFLICT},
        examples=examples.LEAD_DISPATCH_NOW,
    )
    def post(self, request: Request, lead_id: int) -> Response:
        """Make a queued or scheduled lead due now; windows and limits still apply."""
        lead = self.lead_or_404(request, lead_id)
        with service_errors():
            lead = lead_dispatch_now(lead_id=lead.pk, actor=actor_label(request.user))
        return Response(LeadSerializer(lead).data)


class LeadImportApi(ResourceView):
    resource = Resource.LEAD
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": LeadImportInputSerializer},
        responses={202: LeadImportSerializer, **_INVALID, **_FORBIDDEN, **_TOO_LARGE},
        examples=examples.LEAD_IMPORT,
    )
    def post(self, request: Request) -> Response:
        """Upload a CSV of leads; it is imported in the background (poll the import)."""
        data = LeadImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            lead_import = lead_import_start(
                user=request.user,
                file=data.validated_data["file"],
                template=data.validated_data["template"],
                merchant=data.validated_data.get("merchant"),
                execution_mode=data.validated_data["execution_mode"],
            )
        return Response(LeadImportSerializer(lead_import).data, status=status.HTTP_202_ACCEPTED)


class LeadImportDetailApi(ResourceView):
    resource = Resource.LEAD

    @extend_schema(
        responses={200: LeadImportSerializer, **_FORBIDDEN, **_NOT_FOUND},
        examples=examples.LEAD_IMPORT_DETAIL,
    )
    def get(self, request: Request, import_id: int) -> Response:
        """An import's progress and its first 100 row errors."""
        lead_import: LeadImport | None = lead_import_get(user=request.user, import_id=import_id)
        if lead_import is None:
            raise exceptions.NotFound("No such import.")
        errors = lead_import_errors(lead_import=lead_import, limit=100)
        return Response(LeadImportSerializer(lead_import, context={"row_errors": errors}).data)
