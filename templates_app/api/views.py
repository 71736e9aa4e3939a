from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.selectors import merchant_list, merchant_secret_names
from templates_app.definition.validation import validate_definition


class TemplateValidateApi(APIView):
    """Validate a posted definition without storing it: `{valid, errors[], warnings[]}`."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer[Any]):
        definition = serializers.JSONField()
        merchant = serializers.SlugField(
            required=False, help_text="Slug of the merchant whose secrets `{names}` may use."
        )

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret_names: set[str] = set()
        slug = serializer.validated_data.get("merchant")
        if slug:
            merchant = merchant_list(user=request.user).filter(slug=slug).first()
            if merchant is None:
                raise serializers.ValidationError({"merchant": [f"no merchant {slug!r}"]})
            secret_names = merchant_secret_names(merchant_id=merchant.pk)
        report = validate_definition(
            serializer.validated_data["definition"], secret_names=secret_names
        )
        return Response(report.as_dict())
