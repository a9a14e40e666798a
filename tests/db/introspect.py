"""What a live database holds, read the same way on SQLite and PostgreSQL.

Both engines are reduced to one plain shape (tables; columns with their type, nullability
and database default; primary keys, unique keys, indexes, foreign keys) so that two
databases can be compared and each difference printed on its own line. Unique keys are
compared by their columns (SQLite names a table's UNIQUE constraint
``sqlite_autoindex_...``, a repaired one has a real name); ordinary indexes by name too,
because later migrations find them by name, and a partial one by its predicate.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import asyncpg

# Tortoise's own bookkeeping, not part of the portal's schema.
IGNORED_TABLES = frozenset({"tortoise_migrations"})

IndexColumn = tuple[str, bool]  # (column, descending)


@dataclass(frozen=True, order=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True, order=True)
class Index:
    name: str
    columns: tuple[IndexColumn, ...]
    where: str = ""  # a partial index's predicate, as the engine gives it back


@dataclass(frozen=True, order=True)
class ForeignKey:
    column: str
    table: str
    to: str
    on_delete: str


@dataclass
class Table:
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    unique: list[tuple[str, ...]] = field(default_factory=list)  # a list: duplicates show
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def normalised(self) -> Table:
        return Table(sorted(self.columns), self.primary_key, sorted(self.unique),
                     sorted(self.indexes), sorted(self.foreign_keys))


Schema = dict[str, Table]
_PARTS = (("columns", "column"), ("unique", "unique key"), ("indexes", "index"),
          ("foreign_keys", "foreign key"))


def differences(live: Schema, expected: Schema) -> list[str]:
    """One line per thing the live schema lacks or has beyond the expected one."""
    lines: list[str] = []
    for name in sorted(expected.keys() - live.keys()):
        lines.append(f"missing table {name}")
    for name in sorted(live.keys() - expected.keys()):
        lines.append(f"unexpected table {name}")
    for name in sorted(live.keys() & expected.keys()):
        have, want = live[name], expected[name]
        if have.primary_key != want.primary_key:
            lines.append(f"{name}: primary key {have.primary_key}, expected {want.primary_key}")
        for kind, label in _PARTS:
            have_items, want_items = list(getattr(have, kind)), list(getattr(want, kind))
            for item in want_items:
                if item in have_items:
                    have_items.remove(item)
                else:
                    lines.append(f"{name}: missing {label} {item}")
            lines.extend(f"{name}: unexpected {label} {item}" for item in have_items)
    return lines


# -- SQLite -------------------------------------------------------------------------------


def read_sqlite(path: str) -> Schema:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        names = [row["name"] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {name: _sqlite_table(conn, name).normalised()
                for name in names if name not in IGNORED_TABLES}
    finally:
        conn.close()


def _sqlite_table(conn: sqlite3.Connection, name: str) -> Table:
    table = Table()
    info = list(conn.execute(f'PRAGMA table_info("{name}")'))
    for row in info:
        # An INTEGER PRIMARY KEY is the rowid: never null, whatever it declares.
        table.columns.append(Column(row["name"], row["type"].upper(),
                                    bool(row["notnull"]) or bool(row["pk"]),
                                    row["dflt_value"]))
    table.primary_key = tuple(row["name"] for row in sorted(info, key=lambda r: r["pk"])
                              if row["pk"])
    for index in conn.execute(f'PRAGMA index_list("{name}")'):
        if index["origin"] == "pk":
            continue
        columns = tuple((c["name"], bool(c["desc"])) for c in conn.execute(
            f'PRAGMA index_xinfo("{index["name"]}")') if c["key"])
        where = ""
        if index["partial"]:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                               [index["name"]]).fetchone()["sql"]
            where = sql[sql.upper().rindex(" WHERE ") + 7:].strip()
        if index["unique"]:
            if where:
                raise AssertionError(f"{name}: partial unique index {index['name']} "
                                     "is not understood")
            table.unique.append(tuple(column for column, _ in columns))
        else:
            table.indexes.append(Index(index["name"], columns, where))
    for fk in conn.execute(f'PRAGMA foreign_key_list("{name}")'):
        table.foreign_keys.append(ForeignKey(fk["from"], fk["table"], fk["to"],
                                             fk["on_delete"].upper()))
    return table


# -- PostgreSQL ---------------------------------------------------------------------------

_PG_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
                 "d": "SET DEFAULT"}


async def read_postgres(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        return await _postgres_schema(conn)
    finally:
        await conn.close()


async def _postgres_schema(conn: asyncpg.Connection) -> Schema:
    schema: Schema = {}
    for row in await conn.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"):
        if row["table_name"] not in IGNORED_TABLES:
            schema[row["table_name"]] = Table()
    for row in await conn.fetch(
            "SELECT c.relname AS table, a.attname AS name, "
            "format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, "
            "pg_get_expr(d.adbin, d.adrelid) AS default "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 "
            "AND NOT a.attisdropped"):
        if row["table"] in schema:
            schema[row["table"]].columns.append(
                Column(row["name"], row["type"].upper(), row["not_null"], row["default"]))
    for row in await conn.fetch(
            "SELECT t.relname AS table, i.relname AS name, x.indisunique AS is_unique, "
            "x.indisprimary AS is_primary, pg_get_expr(x.indpred, x.indrelid) AS where, "
            "x.indexprs IS NOT NULL AS expressions, "
            "ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "      ORDER BY k.n) AS columns, "
            "ARRAY(SELECT (o & 1) = 1 FROM unnest(x.indoption::int2[]) WITH ORDINALITY "
            "      AS k(o, n) ORDER BY k.n) AS descending "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'"):
        table = schema.get(row["table"])
        if table is None:
            continue
        if row["expressions"] or (row["where"] and (row["is_primary"] or row["is_unique"])):
            raise AssertionError(f"{row['table']}: index {row['name']} is not understood")
        columns = tuple(row["columns"])
        if row["is_primary"]:
            table.primary_key = columns
        elif row["is_unique"]:
            table.unique.append(columns)
        else:
            table.indexes.append(Index(row["name"], tuple(zip(columns, row["descending"],
                                                              strict=True)),
                                       row["where"] or ""))
    for row in await conn.fetch(
            "SELECT t.relname AS table, r.relname AS target, c.confdeltype::text AS on_delete, "
            "ARRAY(SELECT a.attname FROM unnest(c.conkey) AS k(attnum) JOIN pg_attribute a "
            "      ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns, "
            "ARRAY(SELECT a.attname FROM unnest(c.confkey) AS k(attnum) JOIN pg_attribute a "
            "      ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS targets "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_class r ON r.oid = c.confrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = 'public' AND c.contype = 'f'"):
        table = schema.get(row["table"])
        if table is None:
            continue
        assert len(row["columns"]) == 1, "composite foreign keys are not expected"
        table.foreign_keys.append(ForeignKey(row["columns"][0], row["target"],
                                             row["targets"][0],
                                             _PG_ON_DELETE[row["on_delete"]]))
    return {name: table.normalised() for name, table in schema.items()}
