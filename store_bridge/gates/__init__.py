"""Gate adapters: the turnstiles and doors of a store, each behind one interface."""
