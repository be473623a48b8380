"""store_bridge: connects a cashier-less store's gates to Concierge's access-event model."""

__version__ = "0.1.0"
