"""Identifiers (refdesk.ids)."""

import time

from refdesk.ids import new_id


def test_ids_are_hex_unique_and_time_ordered() -> None:
    first = new_id()
    time.sleep(0.002)
    ids = [new_id() for _ in range(1000)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == 1000
    assert all(first[:12] <= i[:12] for i in ids)
