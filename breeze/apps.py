from django.apps import AppConfig


class BreezeProjectConfig(AppConfig):
    """The project package as an app only for its project-wide management commands (no models)."""

    name = "breeze"
    verbose_name = "Breeze"
