from django.urls import path

from calls.recordings.views import recording_download

urlpatterns = [
    path("<str:token>", recording_download, name="recording-download"),
]
