"""The schema the migrations build from zero is the schema the models declare.

On each engine two empty databases are made: one migrated from zero, one given the models'
schema by Tortoise's schema generator. Both are read back the same way (tables, columns
with type, nullability and default, primary, unique and foreign keys, indexes) and must be
equal, apart from the few indexes migrations write by hand because Tortoise cannot declare
them. The generator is checked in turn against what each model's ``_meta`` says, so a blind
spot in the generator cannot hide a missing key. Every future migration is held to this.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.fields.relational import (
    BackwardFKRelation,
    BackwardOneToOneRelation,
    ForeignKeyFieldInstance,
    ManyToManyFieldInstance,
)
from tortoise.indexes import Index as TortoiseIndex
from tortoise.models import MetaInfo

from portal.db import migrate_database, tortoise_config
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind
from tests.conftest import _close_orm, _drop, create_database, require_postgres
from tests.db.introspect import Index, Schema, differences, read_postgres, read_sqlite

# Made by migration 0005 (descending columns); the models' Meta points to it.
HAND_WRITTEN_INDEXES = {
    "account": Index("account_board", (("kind", False), ("earned_total", True),
                                       ("last_earned_at", False), ("id", False))),
    "season_score": Index("season_score_board", (("season", False), ("earned", True),
                                                 ("reached_at", False), ("account_id", False))),
}


@dataclass(frozen=True)
class Declaration:
    """One thing a model's ``_meta`` asks of its table."""

    table: str
    kind: str  # column, unique, index or foreign key
    what: tuple[object, ...]

    def holds_in(self, schema: Schema) -> bool:
        table = schema.get(self.table)
        if table is None:
            return False
        if self.kind == "column":
            name, not_null = self.what
            return any(c.name == name and c.not_null == not_null for c in table.columns)
        if self.kind == "unique":
            return set(self.what) in [set(u) for u in table.unique]
        if self.kind == "index":
            return any(tuple(c for c, _ in index.columns) == self.what
                       for index in table.indexes)
        column, target, to, on_delete = self.what
        return any((fk.column, fk.table, fk.to, fk.on_delete) == (column, target, to, on_delete)
                   for fk in table.foreign_keys)


def declarations_of_the_models() -> list[Declaration]:
    """Read from the initialised models: columns and their nullability, unique fields,
    ``unique_together``, ``indexes``, ``db_index`` fields and foreign keys."""
    found: list[Declaration] = []
    for model in Tortoise.apps["portal"].values():
        meta = model._meta
        table = meta.db_table

        def column(field_name: str, meta: MetaInfo = meta) -> str:
            field = meta.fields_map[field_name]
            return field.source_field or field_name

        for name, field in meta.fields_map.items():
            if isinstance(field, (BackwardFKRelation, BackwardOneToOneRelation,
                                  ManyToManyFieldInstance)):
                continue
            if isinstance(field, ForeignKeyFieldInstance):  # and one-to-one
                target = field.related_model._meta
                to = field.to_field_instance.source_field or field.to_field
                found.append(Declaration(table, "foreign key", (
                    field.source_field, target.db_table, to, field.on_delete.upper())))
                continue
            found.append(Declaration(table, "column", (column(name), field.pk or not field.null)))
            if field.unique and not field.pk:
                found.append(Declaration(table, "unique", (column(name),)))
            elif field.index and not field.pk:
                found.append(Declaration(table, "index", (column(name),)))
        for together in meta.unique_together:
            found.append(Declaration(table, "unique", tuple(column(f) for f in together)))
        for index in meta.indexes:
            names = index.fields if isinstance(index, TortoiseIndex) else index
            found.append(Declaration(table, "index", tuple(column(f) for f in names)))
    return found


@dataclass
class Built:
    migrated: Schema  # an empty database migrated from zero
    declared: Schema  # an empty database given the models' schema by Tortoise
    declarations: list[Declaration]


async def _generate(url: str) -> list[Declaration]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        await Tortoise.generate_schemas()
        return declarations_of_the_models()
    finally:
        await _close_orm()


def _build_sqlite(folder: Path) -> Built:
    migrated, declared = folder / "migrated.sqlite3", folder / "declared.sqlite3"

    async def build() -> list[Declaration]:
        await migrate_database(f"sqlite://{migrated}")
        await _close_orm()
        return await _generate(f"sqlite://{declared}")

    declarations = asyncio.run(build())
    return Built(read_sqlite(str(migrated)), read_sqlite(str(declared)), declarations)


def _build_postgres() -> Iterator[Built]:
    require_postgres()
    names = [f"portal_schema_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("migrated", "declared")]

    async def build() -> Built:
        migrated, declared = [await create_database(name) for name in names]
        await migrate_database(migrated)
        await _close_orm()
        declarations = await _generate(declared)
        return Built(await read_postgres(migrated), await read_postgres(declared), declarations)

    try:
        yield asyncio.run(build())
    finally:
        for name in names:
            asyncio.run(_drop(name))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Built]:
    if request.param == "sqlite":
        yield _build_sqlite(tmp_path_factory.mktemp("schema"))
    else:
        yield from _build_postgres()


def expected(built: Built) -> Schema:
    schema = {name: table.normalised() for name, table in built.declared.items()}
    for name, index in HAND_WRITTEN_INDEXES.items():
        schema[name].indexes = sorted([*schema[name].indexes, index])
    return schema


def test_a_database_migrated_from_zero_has_the_schema_the_models_declare(built: Built) -> None:
    assert differences(built.migrated, expected(built)) == []


def test_the_migrated_database_holds_every_key_and_index_the_models_meta_declares(
        built: Built) -> None:
    assert len(built.declarations) > 100  # the models were read
    assert [d for d in built.declarations if not d.holds_in(built.migrated)] == []


def test_the_generated_schema_is_a_faithful_reference(built: Built) -> None:
    assert [d for d in built.declarations if not d.holds_in(built.declared)] == []


async def test_the_standing_system_accounts_exist_before_any_transfer(any_db: str) -> None:
    # Made by migration 0015, so no transfer creates one inside its own transaction
    # (two first awards at once would collide on the unique code).
    standing = await Account.filter(code__in=[ledger.ISSUANCE, ledger.BURNS, ledger.CATALOG])
    assert sorted((a.code, a.kind, a.balance) for a in standing) == [
        (ledger.BURNS, AccountKind.SYSTEM, 0), (ledger.CATALOG, AccountKind.SYSTEM, 0),
        (ledger.ISSUANCE, AccountKind.SYSTEM, 0)]
    assert all(a.created_at.tzinfo is not None for a in standing)


async def test_every_catalog_account_exists_before_any_redemption(any_db: str) -> None:
    # Made by migration 0021: a payer's first redemption finds its catalog account.
    codes = [ledger.catalog_code(payer) for payer in range(ledger.CATALOG_SHARDS)]
    made = await Account.filter(code__in=codes, kind=AccountKind.SYSTEM, balance=0).count()
    assert made == len(set(codes)) == ledger.CATALOG_SHARDS
