from django.urls import path

from leads.api.views import (
    LeadBulkApi,
    LeadCancelApi,
    LeadDetailApi,
    LeadDispatchNowApi,
    LeadImportApi,
    LeadImportDetailApi,
    LeadListApi,
)
from leads.campaigns.api.urls import urlpatterns as campaign_urlpatterns

urlpatterns = [
    path("leads", LeadListApi.as_view(), name="lead-list"),
    path("leads/bulk", LeadBulkApi.as_view(), name="lead-bulk"),
    path("leads/import", LeadImportApi.as_view(), name="lead-import"),
    path("leads/<int:lead_id>", LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<int:lead_id>/cancel", LeadCancelApi.as_view(), name="lead-cancel"),
    path(
        "leads/<int:lead_id>/dispatch-now", LeadDispatchNowApi.as_view(), name="lead-dispatch-now"
    ),
    path("lead-imports/<int:import_id>", LeadImportDetailApi.as_view(), name="lead-import-detail"),
    *campaign_urlpatterns,
]
