"""The store bridge's decisions: plain, typed Python with no I/O."""
