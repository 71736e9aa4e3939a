from django.urls import path

from calls.api import recordings, views, webhooks

urlpatterns = [
    path("calls", views.CallListApi.as_view(), name="call-list"),
    path("calls/<int:call_id>", views.CallDetailApi.as_view(), name="call-detail"),
    path(
        "calls/<int:call_id>/recording",
        recordings.CallRecordingApi.as_view(),
        name="call-recording",
    ),
    path(
        "webhook-endpoints",
        webhooks.WebhookEndpointListApi.as_view(),
        name="webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>",
        webhooks.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/rotate-secret",
        webhooks.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhook-deliveries",
        webhooks.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>",
        webhooks.WebhookDeliveryDetailApi.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/replay",
        webhooks.WebhookDeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
]
