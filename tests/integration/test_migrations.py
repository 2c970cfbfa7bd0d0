"""The migration runner (refdesk.db.migrate) against real PostgreSQL."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

from refdesk.db import MigrationError, migrate

pytestmark = pytest.mark.integration


def write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql)


async def test_applies_in_order_once_and_records_them(servers, tmp_path: Path) -> None:
    dsn = await servers.fresh_database()
    write(tmp_path, "0001_first.sql", "CREATE TABLE t (n int);")
    write(tmp_path, "0002_second.sql", "INSERT INTO t VALUES (2);")
    assert await migrate(dsn, "demo", tmp_path) == ["0001_first.sql", "0002_second.sql"]
    assert await migrate(dsn, "demo", tmp_path) == []
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM demo.t") == 1
        assert await conn.fetchval("SELECT array_agg(number ORDER BY number) FROM demo.schema_migrations") == [1, 2]
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(servers, tmp_path: Path) -> None:
    dsn = await servers.fresh_database()
    write(tmp_path, "0001_first.sql", "CREATE TABLE t (n int); INSERT INTO t VALUES (1);")
    results = await asyncio.gather(*(migrate(dsn, "race", tmp_path) for _ in range(5)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 1]


async def test_edited_applied_migration_is_refused(servers, tmp_path: Path) -> None:
    dsn = await servers.fresh_database()
    write(tmp_path, "0001_first.sql", "CREATE TABLE t (n int);")
    await migrate(dsn, "edit", tmp_path)
    write(tmp_path, "0001_first.sql", "CREATE TABLE t (n bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(dsn, "edit", tmp_path)


async def test_failed_migration_rolls_back_and_is_not_recorded(servers, tmp_path: Path) -> None:
    dsn = await servers.fresh_database()
    write(tmp_path, "0001_bad.sql", "CREATE TABLE t (n int); SELECT * FROM missing_table;")
    with pytest.raises(asyncpg.PostgresError):
        await migrate(dsn, "bad", tmp_path)
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('bad.t')") is None
        assert await conn.fetchval("SELECT count(*) FROM bad.schema_migrations") == 0
    finally:
        await conn.close()


def test_misnamed_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "first.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_lowercase_name.sql"):
        asyncio.run(migrate("postgresql://unused/none", "x", tmp_path))
