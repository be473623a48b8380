"""Shared fixtures for Concierge's tests."""

pytest_plugins = [
    "pytest_homeassistant_custom_component",
    "tests.keypad_helpers",  # fixtures shared by the Z-Wave and Zigbee keypad tests
    "tests.rig_delivery_helpers",  # fixtures shared by the Z-Wave and Zigbee delivery tests
]
