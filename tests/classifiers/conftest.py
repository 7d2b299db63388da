import pytest

from classifiers.textmodels import TextModels


@pytest.fixture(scope="session")
def models():
    """The shipped models (loaded once per test session; nothing is retrained here)."""
    return TextModels.load()
