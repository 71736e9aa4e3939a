from django.apps import AppConfig


class BreezeConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Tenancy and configuration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.logs import celery as log_celery

        log_celery.connect()
