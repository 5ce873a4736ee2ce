"""The feed in commit order with two real simultaneous writers, each on its own PostgreSQL
connection: a reader that pages while one write is still open never steps past its change.

Without the feed's lock the second writer commits a change with a higher id while the first is
still open; a reader then reads that change, its cursor moves past the first writer's id, and when
the first commits its change is never read."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections, transaction

from counties.reads.changes import changes_after, current_cursor, decode_cursor
from counties.writes import services

from .conftest import postgresql_only
from .factories import DesignationFactory

pytestmark = [postgresql_only, pytest.mark.usefixtures("separate_connections")]


def test_a_reader_never_pages_past_a_change_whose_transaction_is_still_open():
    first, second = DesignationFactory(), DesignationFactory()
    start = decode_cursor(current_cursor())
    first_written = threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                first.name_as_reported = "先"
                services.save_record(first, user=None, reason="first, held open")
                first_written.set()
                time.sleep(1.5)  # the second writer and the reader come while this is open
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def quick_writer() -> None:
        try:
            first_written.wait(5)
            second.name_as_reported = "后"
            services.save_record(second, user=None, reason="second, at once")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=quick_writer)]
    for thread in threads:
        thread.start()
    first_written.wait(5)
    time.sleep(0.5)  # the quick writer has written (or waits for the lock)
    seen = changes_after(start).changes  # what a client reads meanwhile
    cursor = seen[-1].id if seen else start
    for thread in threads:
        thread.join()
    assert not errors
    later = changes_after(cursor).changes
    read = [(c.key, c.record["name_as_reported"]) for c in [*seen, *later]]
    assert read == [(str(first.pk), "先"), (str(second.pk), "后")]
