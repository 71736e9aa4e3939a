from django.contrib import admin
from django.urls import include, path

from breeze import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api.urls")),
    path("api/v1/", include("templates_app.api.urls")),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("calls.api.urls")),
]
