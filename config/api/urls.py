from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView

# Registers the API's authentication schemes with drf-spectacular, which reads them only
# when it walks these URLs: processes that serve no API (voice, Celery) never load it.
from config.api import schema  # noqa: F401
from config.api.views import (
    ApiKeyDetailApi,
    ApiKeyListApi,
    ApiKeyRevokeApi,
    TokenRefreshApi,
)

urlpatterns = [
    path("auth/token", TokenObtainPairView.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("api-keys", ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<int:api_key_id>", ApiKeyDetailApi.as_view(), name="api-key-detail"),
    path("api-keys/<int:api_key_id>/revoke", ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
]
