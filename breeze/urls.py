from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from breeze import health, metrics
from breeze.dashboard.api import DashboardApi
from breeze.dashboard.pages import dashboard_page

admin.autodiscover()

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/dashboard/", admin.site.admin_view(dashboard_page), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/dashboard", DashboardApi.as_view(), name="dashboard"),
    path("api/v1/", include("config.api.urls")),
    path("api/v1/", include("templates_app.api.urls")),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("calls.api.urls")),
    path("api/v1/", include("telephony.api.urls")),
    path("telephony/", include("telephony.urls")),
    # Signed, expiring links to call recordings: the link itself is the credential.
    path("recordings/", include("calls.recordings.urls")),
]
