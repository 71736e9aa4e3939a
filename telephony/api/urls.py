from django.urls import path

from telephony.api.views import DailyConnectApi

urlpatterns = [
    path("daily/connect", DailyConnectApi.as_view(), name="daily-connect"),
]
