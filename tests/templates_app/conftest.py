from __future__ import annotations

import copy
from typing import Any

import pytest

from templates_app.demo import demo_definition


@pytest.fixture
def order_definition() -> dict[str, Any]:
    return copy.deepcopy(demo_definition("order-confirmation"))
