"""A sandbox behind ``regionhalland_default`` for these tests (see ``tests/triggers/support.py``)."""

from tests.triggers.support import sandbox, sb

__all__ = ["sandbox", "sb"]
