from __future__ import annotations

import os
import time


def sortable_id() -> str:
    """32 hex characters: 48-bit millisecond time, then 80 random bits (sorts by creation)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"
