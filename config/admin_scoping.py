"""The admin base for merchant-owned models: rows, forms, filters and autocomplete are scoped."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib import admin
from django.db import models

from config.models import Merchant
from config.selectors import merchant_ids_allowing, scope_queryset, user_may
from config.types import Action, Resource

if TYPE_CHECKING:
    from django.forms import ModelChoiceField
    from django.http import HttpRequest

_M = TypeVar("_M", bound=models.Model)


class MerchantScopedAdmin(admin.ModelAdmin[_M]):
    """A non-superuser sees and changes only rows of merchants where their role allows it.

    Rows of other merchants are absent from the queryset, so their change, delete and history
    pages answer "does not exist", and list filters and autocompletes built from the queryset
    never show them.
    """

    resource: ClassVar[Resource]
    merchant_field: ClassVar[str] = "merchant"
    # What a user must be allowed on `resource` in a merchant to pick it in a form.
    writable_action: ClassVar[Action] = Action.ADD

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[_M]:
        return scope_queryset(
            super().get_queryset(request),
            user=request.user,
            resource=self.resource,
            merchant_field=self.merchant_field,
        )

    def merchant_id_of(self, obj: _M) -> int | None:
        if self.merchant_field == "pk":
            return int(obj.pk)
        merchant_id: int | None = operator.attrgetter(
            self.merchant_field.replace("__", ".") + "_id"
        )(obj)
        return merchant_id

    def _may(self, request: HttpRequest, action: Action, obj: _M | None) -> bool:
        merchant_id = None if obj is None else self.merchant_id_of(obj)
        if obj is not None and merchant_id is None:
            # Global rows (no merchant) belong to the platform.
            return user_may(user=request.user, resource=Resource.PLATFORM, action=action)
        return user_may(
            user=request.user, resource=self.resource, action=action, merchant_id=merchant_id
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, Action.VIEW, None)

    def has_view_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return self._may(request, Action.VIEW, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, Action.ADD, None)

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return self._may(request, Action.CHANGE, obj)

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return self._may(request, Action.DELETE, obj)

    def writable_merchants(self, request: HttpRequest) -> models.QuerySet[Merchant]:
        merchant_ids = merchant_ids_allowing(
            user=request.user, resource=self.resource, action=self.writable_action
        )
        merchants = Merchant.objects.all()
        return merchants if merchant_ids is None else merchants.filter(pk__in=merchant_ids)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is Merchant:
            kwargs["queryset"] = self.writable_merchants(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def adopt_saved(obj: models.Model, saved: models.Model) -> None:
    """Give the admin's unsaved instance the state of the row a service saved.

    The admin keeps using the instance it built (for the redirect and the log entry), while
    the write itself went through the service.
    """
    obj.__dict__.update(saved.__dict__)
