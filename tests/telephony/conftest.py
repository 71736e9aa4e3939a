from tests.calls.conftest import call, published  # noqa: F401 - shared fixtures
