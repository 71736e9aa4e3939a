from __future__ import annotations

import factory
from django.contrib.auth.models import User
from factory.django import DjangoModelFactory

from config.models import Merchant


class MerchantFactory(DjangoModelFactory[Merchant]):
    class Meta:
        model = Merchant
        django_get_or_create = ["slug"]
        skip_postgeneration_save = True

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    time_zone = "Asia/Kolkata"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
