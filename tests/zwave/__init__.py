"""Tests against the Z-Wave rig (rigs/zwave)."""
