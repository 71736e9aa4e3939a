from django.urls import path

from templates_app.api.views import TemplateValidateApi

urlpatterns = [
    path("templates/validate", TemplateValidateApi.as_view(), name="template-validate"),
]
