from django.urls import path

from templates_app.api.views import (
    TemplateDetailApi,
    TemplateListApi,
    TemplateValidateApi,
    TemplateVersionDetailApi,
    TemplateVersionListApi,
)

urlpatterns = [
    path("templates", TemplateListApi.as_view(), name="template-list"),
    path("templates/validate", TemplateValidateApi.as_view(), name="template-validate"),
    path("templates/<int:template_id>", TemplateDetailApi.as_view(), name="template-detail"),
    path(
        "templates/<int:template_id>/versions",
        TemplateVersionListApi.as_view(),
        name="template-version-list",
    ),
    path(
        "templates/<int:template_id>/versions/<int:number>",
        TemplateVersionDetailApi.as_view(),
        name="template-version-detail",
    ),
]
