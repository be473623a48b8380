"""Keypad PINs on real locks: one manager, one adapter per protocol (Z-Wave, Zigbee)."""
