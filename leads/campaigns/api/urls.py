from django.urls import path

from leads.campaigns.api.views import (
    CampaignDetailApi,
    CampaignListApi,
    CampaignPauseApi,
    CampaignResumeApi,
    CampaignStartApi,
    CampaignStopApi,
)

urlpatterns = [
    path("campaigns", CampaignListApi.as_view(), name="campaign-list"),
    path("campaigns/<int:campaign_id>", CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:campaign_id>/start", CampaignStartApi.as_view(), name="campaign-start"),
    path("campaigns/<int:campaign_id>/pause", CampaignPauseApi.as_view(), name="campaign-pause"),
    path("campaigns/<int:campaign_id>/resume", CampaignResumeApi.as_view(), name="campaign-resume"),
    path("campaigns/<int:campaign_id>/stop", CampaignStopApi.as_view(), name="campaign-stop"),
]
