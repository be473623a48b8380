"""Shared fixtures for Concierge's tests."""

pytest_plugins = [
    "pytest_homeassistant_custom_component",
    "tests.keypad_helpers",  # fixtures shared by the Z-Wave and Zigbee keypad tests
    "tests.rig_delivery_helpers",  # fixtures shared by the Z-Wave and Zigbee delivery tests
    "tests.mosquitto",  # a real MQTT broker on 127.0.0.1 (store bridge and store site tests)
    "tests.localstripe_server",  # a fake Stripe server on 127.0.0.1 (store checkout tests)
]
