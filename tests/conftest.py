"""Shared fixtures for Concierge's tests."""

pytest_plugins = ["pytest_homeassistant_custom_component"]
