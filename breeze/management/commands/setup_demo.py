"""Demo merchants, logins and templates for a fresh machine; safe to run on every `make run`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.models import Membership, Merchant
from config.services import membership_create, merchant_create, user_ensure
from leads.campaigns.demo import demo_campaign_ensure
from telephony.sandbox.demo import sandbox_demo_ensure
from templates_app.services import template_load_demos

Role = Membership.Role

DEMO_MERCHANTS = [
    ("Acme Retail", "acme", "Asia/Kolkata"),
    ("Globex Stores", "globex", "America/New_York"),
]
DEMO_MEMBERS = [
    ("acme-admin", "acme", Role.MERCHANT_ADMIN),
    ("acme-operator", "acme", Role.OPERATOR),
    ("globex-viewer", "globex", Role.VIEWER),
]


class Command(BaseCommand):
    help = "Create the demo merchants and logins, and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.BREEZE_ADMIN_PASSWORD
        if not password:
            raise CommandError("set BREEZE_ADMIN_PASSWORD to create the demo logins")
        merchants = {}
        for name, slug, time_zone in DEMO_MERCHANTS:
            existing = Merchant.objects.filter(slug=slug).first()
            merchants[slug] = existing or merchant_create(name=name, slug=slug, time_zone=time_zone)
        admin = user_ensure(
            username="admin", password=password, email="admin@example.com", is_superuser=True
        )
        for username, slug, role in DEMO_MEMBERS:
            user = user_ensure(
                username=username, password=password, email=f"{username}@example.com"
            )
            if not Membership.objects.filter(user=user, merchant=merchants[slug]).exists():
                membership_create(user=user, merchant=merchants[slug], role=role)
        for merchant in merchants.values():
            template_load_demos(merchant=merchant)
        campaign, created = demo_campaign_ensure(merchant=merchants["acme"], user=admin)
        self.stdout.write(
            f"  Demo campaign #{campaign.pk} ({campaign.get_status_display().lower()}"
            f"{', new' if created else ''}): {campaign.calls_per_minute} calls a minute at most, "
            f"{campaign.max_concurrency} at once: "
            f"http://127.0.0.1:8000/admin/leads/campaign/{campaign.pk}/change/"
        )
        if settings.BREEZE_PROVIDER_SANDBOX:
            templates = sandbox_demo_ensure(merchant=merchants["acme"])
            self.stdout.write(
                f"  Provider sandbox at {settings.BREEZE_PROVIDER_SANDBOX_URL}: acme holds sandbox "
                "credentials for twilio, plivo, exotel and daily, and the templates "
                f"{', '.join(templates.values())}; the demo process pushes a lead to each "
                "(again: .venv/bin/python manage.py push_sandbox_leads)."
            )
        usernames = ", ".join(["admin", *(member[0] for member in DEMO_MEMBERS)])
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Breeze admin: http://127.0.0.1:8000/admin/\n"
                f"  login: admin   password: {password}\n"
                f"  (the same password works for {usernames})\n"
            )
        )
