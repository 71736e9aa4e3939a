import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.local")

from config.tracing.setup import tracing_configure

tracing_configure(service_name="breeze-web")

application = get_wsgi_application()
