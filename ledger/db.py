"""Engines and sessions: a SQLite file by default, PostgreSQL by URL; several processes may write at once."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Base

LEDGER_URL_ENV = "TAXINTAKE_LEDGER_URL"
DEFAULT_LEDGER_URL = "sqlite:///var/ledger.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30
# Execution option read by the SQLite `begin` hook: take the write lock at BEGIN.
BEGIN_IMMEDIATE = "taxintake_sqlite_begin_immediate"
_INIT_DB_LOCK_ID = 0x7A71_0001  # PostgreSQL advisory lock serialising concurrent init_db calls


def default_ledger_url() -> str:
    """`TAXINTAKE_LEDGER_URL`, or a SQLite file under ./var (the folder is created)."""
    url = os.environ.get(LEDGER_URL_ENV) or DEFAULT_LEDGER_URL
    _create_sqlite_folder(url)
    return url


def is_sqlite(bind: Engine | Session) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    _create_sqlite_folder(url)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    _configure_sqlite(engine)
    return engine


def _create_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling issues BEGIN late and never as IMMEDIATE, which breaks SAVEPOINT and
    # lets two writers deadlock on lock upgrade; so the driver is put in autocommit and SQLAlchemy emits BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_db(engine: Engine) -> None:
    """Create the tables that are missing; safe to call from several processes at once."""
    with engine.execution_options(**{BEGIN_IMMEDIATE: True}).begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": _INIT_DB_LOCK_ID})
        Base.metadata.create_all(connection)


def session_factory(engine: Engine, *, write: bool = True) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit.

    On SQLite a writing session takes the write lock when its transaction begins, so a later write can never fail
    on lock upgrade; `write=False` gives a plain deferred transaction for read-only work.
    """
    bind = engine.execution_options(**{BEGIN_IMMEDIATE: True}) if write else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    session = session_factory(engine, write=write)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
