"""The emulated ``pg_catalog`` and ``information_schema`` that BI drivers query to discover sqlspapi's tables.

Both live in attached ``:memory:`` databases named ``pg_catalog`` and ``information_schema``, so the catalog SQL that
psqlODBC, psql and pgjdbc send runs in SQLite mostly unchanged (SQLite resolves a bare ``pg_class`` through the
attached databases too). The tables are filled from ``sqlite_schema`` and ``PRAGMA table_xinfo`` of ``main`` (schema
``public``) and ``temp`` (schema ``pg_temp_3``) and refreshed whenever either schema changes. Hidden columns
(API parameters of table-valued functions) are not listed, matching ``SELECT *``. The catalog functions drivers
call (``format_type``, ``pg_get_userbyid``, ``obj_description`` …) are registered as SQLite functions.

The tables' columns are in :mod:`~sqlspapi.server.catalogtables`; the session's settings (``SET``, ``SHOW``,
``current_setting``) in :mod:`~sqlspapi.server.pgsettings`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import apsw

from . import pgtypes
from .catalogtables import CATALOG_TABLES, INFO_TABLES
from .pgerror import PgError
from .pgsettings import setting_value

PUBLIC_OID, CATALOG_OID, INFO_SCHEMA_OID, TEMP_OID = 2200, 11, 13000, 16000
USER_OID, DATABASE_OID, FIRST_TABLE_OID, OWNER_ROLE_OID = 10, 16384, 16400, 6171
SYSTEM_CLASSES = {"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259, "pg_namespace": 2615,
                  "pg_description": 2609, "pg_constraint": 2606, "pg_database": 1262, "pg_index": 2610}


def _info_data_type(oid: int) -> str:
    return {pgtypes.TEXT: "text", pgtypes.BYTEA: "bytea"}.get(oid) or pgtypes.format_type(oid) or "text"


class Catalog:
    """The emulated catalog of one session's connection: attaches, fills and refreshes it, answers its functions."""

    def __init__(self, connection: apsw.Connection, *, user: str, database_name: str,
                 settings: dict[str, str], descriptions: Mapping[str, Any] | None = None) -> None:
        self.con, self.user, self.database_name, self.settings = connection, user, database_name, settings
        self.table_descriptions: dict[str, tuple[str | None, dict[str, str]]] = dict(descriptions or {})
        self.rel_oids: dict[str, int] = {}
        self.columns: dict[str, dict[str, int]] = {}  # table → column → type OID (for type inference)
        self._catalog_columns = {name: {c.split()[0]: pgtypes.oid_for_decltype(c.split()[1]) or pgtypes.TEXT
                                        for c in cols.split(", ")}
                                 for name, cols in {**CATALOG_TABLES, **INFO_TABLES}.items()}
        self.comments: dict[tuple[int, int], str] = {}
        self._version: tuple[int, int] | None = None
        self.con.execute("ATTACH ':memory:' AS pg_catalog; ATTACH ':memory:' AS information_schema")
        for schema, tables in (("pg_catalog", CATALOG_TABLES), ("information_schema", INFO_TABLES)):
            for name, cols in tables.items():
                self.con.execute(f'CREATE TABLE {schema}."{name}" ({cols})')
        self._static_rows()
        self._register_functions()
        self.refresh()

    def _insert(self, table: str, rows: list[tuple]) -> None:
        if rows:
            marks = ",".join("?" * len(rows[0]))
            self.con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def _static_rows(self) -> None:
        user, db = self.user, self.database_name
        self._insert("pg_catalog.pg_namespace", [(CATALOG_OID, "pg_catalog", USER_OID, None),
                                                  (PUBLIC_OID, "public", OWNER_ROLE_OID, None),
                                                  (INFO_SCHEMA_OID, "information_schema", USER_OID, None),
                                                  (TEMP_OID, "pg_temp_3", USER_OID, None)])
        types = []
        for t in pgtypes.TYPES:
            kind = "b" if t.oid != pgtypes.VOID else "p"
            types.append((t.oid, t.name, CATALOG_OID, USER_OID, t.length, int(0 < t.length <= 8), kind, t.category,
                          0, 1, ",", 0, "-", t.element_oid, t.array_oid, "array_in" if t.element_oid else t.name + "in",
                          t.name + "out", "-", "-", "-", "-", "-", "i", "p", 0, 0, -1, 0,
                          100 if t.category == "S" else 0, None, None, None))
        self._insert("pg_catalog.pg_type", types)
        self._insert("pg_catalog.pg_am", [(2, "heap", "heap_tableam_handler", "t")])
        self._insert("pg_catalog.pg_database", [(DATABASE_OID, db, USER_OID, 6, "c", 0, 1, -1, 0, 0, 1663, "C", "C",
                                                  None, None, None)])
        self._insert("pg_catalog.pg_roles", [(USER_OID, user, 0, 1, 0, 0, 1, 0, -1, "********", None, 0, None)])
        self._insert("pg_catalog.pg_user", [(user, USER_OID, 0, 0, 0, 0, "********", None, None)])
        self._insert("pg_catalog.pg_tablespace", [(1663, "pg_default", USER_OID, None, None)])
        self._insert("pg_catalog.pg_collation", [(100, "default", CATALOG_OID, USER_OID, "d", 1, -1, None, None,
                                                   None, None)])
        self._insert("information_schema.schemata", [(db, n, user, None, None, "UTF8", None) for n in
                                                     ("information_schema", "pg_catalog", "public")])
        self._insert("pg_catalog.pg_settings", [(k, v, None, "sqlspapi", None, None, "user", "string", "default",
                                                  None, None, None, v, v, None, None, 0)
                                                 for k, v in sorted(self.settings.items())])

    def _schema_version(self) -> tuple[int, int]:
        main = self.con.execute("PRAGMA main.schema_version").fetchall()[0][0]
        temp = self.con.execute("PRAGMA temp.schema_version").fetchall()[0][0]
        return main, temp

    def refresh(self, force: bool = False) -> None:
        """Re-read ``main`` and ``temp`` into the catalog when their schema changed (cheap when it did not)."""
        version = self._schema_version()
        if version == self._version and not force:
            return
        self._version = version
        for table in ("pg_class", "pg_attribute", "pg_description", "pg_tables", "pg_views"):
            self.con.execute(f"DELETE FROM pg_catalog.{table}")
        for table in ("tables", "columns", "views"):
            self.con.execute(f"DELETE FROM information_schema.{table}")
        self.rel_oids = dict(SYSTEM_CLASSES)
        self.columns = dict(self._catalog_columns)
        self.comments = {}
        oid = FIRST_TABLE_OID
        for schema, master, nsp_oid, nsp in (("main", "sqlite_schema", PUBLIC_OID, "public"),
                                            ("temp", "sqlite_temp_schema", TEMP_OID, "pg_temp_3")):
            objects = self.con.execute(f"SELECT type, name, sql FROM {schema}.{master} WHERE type IN ('table', "
                                       "'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").fetchall()
            for kind, name, sql in objects:
                self._add_relation(schema, nsp, nsp_oid, oid, name, "v" if kind == "view" else "r", sql)
                oid += 1

    def _add_relation(self, schema: str, nsp: str, nsp_oid: int, oid: int, name: str, kind: str, sql: str) -> None:
        """One table or view: pg_class, pg_attribute, pg_description and the information_schema rows."""
        cols = [c for c in self.con.execute(f'PRAGMA {schema}.table_xinfo("{name}")').fetchall() if c[6] != 1]
        persistence = "t" if schema == "temp" else "p"
        self.rel_oids.setdefault(name, oid)
        self.columns[name.lower()] = {c[1].lower(): pgtypes.oid_for_decltype(c[2]) or pgtypes.TEXT for c in cols}
        self._insert("pg_catalog.pg_class", [(oid, name, nsp_oid, 0, 0, USER_OID, 2 if kind == "r" else 0, oid,
                                              0, 0, -1.0, 0, 0, 0, 0, persistence, kind, len(cols), 0,
                                              int(kind == "v"), 0, 0, 0, 0, 1, "d", 0, 0, 0, 0, None, None, None,
                                              0)])
        table_comment, column_comments = self.table_descriptions.get(name, (None, {}))
        if table_comment:
            self.comments[(oid, 0)] = table_comment
        attrs, info_cols = [], []
        for num, (_cid, col, decl, notnull, default, _pk, _hidden) in enumerate(cols, start=1):
            typ = pgtypes.oid_for_decltype(decl) or pgtypes.TEXT
            attrs.append((oid, col, typ, -1, pgtypes.type_size(typ), num, 0, -1, -1, 0, "i",
                          "p" if pgtypes.type_size(typ) > 0 else "m" if typ == pgtypes.NUMERIC else "x", "", notnull,
                          int(default is not None), 0, "", "", 0, 1, 0, 100 if typ == pgtypes.TEXT else 0, None,
                          None, None, None))
            if column_comments.get(col):
                self.comments[(oid, num)] = column_comments[col]
            info_cols.append((self.database_name, nsp, name, col, num, default, "NO" if notnull else "YES",
                              _info_data_type(typ), None, 1073741824 if typ == pgtypes.TEXT else None,
                              {pgtypes.INT8: 64, pgtypes.FLOAT8: 53}.get(typ),
                              2 if typ in (20, 701) else 10 if typ == pgtypes.NUMERIC else None,
                              0 if typ == pgtypes.INT8 else None, 6 if typ == pgtypes.TIMESTAMPTZ else None,
                              None, None, None, None, None, None, None,
                              None, None, None, None, self.database_name, "pg_catalog", pgtypes.type_name(typ), None,
                              None, None, None, str(num), "NO", "NO", None, None, None, None, None, "NO", "NEVER",
                              None, "NO"))
        self._insert("pg_catalog.pg_attribute", attrs)
        self._insert("pg_catalog.pg_description", [(o, 1259, n, text) for (o, n), text in self.comments.items()
                                                    if o == oid])
        self._insert("information_schema.columns", info_cols)
        table_type = "VIEW" if kind == "v" else ("LOCAL TEMPORARY" if schema == "temp" else "BASE TABLE")
        self._insert("information_schema.tables", [(self.database_name, nsp, name, table_type, None, None, None,
                                                    None, None, "NO", "NO", None)])
        if kind == "v":
            self._insert("pg_catalog.pg_views", [(nsp, name, self.user, sql)])
            self._insert("information_schema.views", [(self.database_name, nsp, name, sql, "NONE", "NO", "NO",
                                                       "NO", "NO", "NO")])
        else:
            self._insert("pg_catalog.pg_tables", [(nsp, name, self.user, None, 0, 0, 0, 0)])

    # ---- functions the catalog SQL calls -------------------------------------------------------------------------
    def regclass(self, value: object) -> object:
        """``x::regclass``: a name literal becomes its OID; an OID becomes its name (as PostgreSQL displays it)."""
        if isinstance(value, str) and not value.isdigit():
            name = value.strip().strip('"').removeprefix("pg_catalog.").removeprefix("public.").strip('"')
            return self.rel_oids.get(name, self.rel_oids.get(name.lower()))
        if value is None:
            return None
        by_oid = {v: k for k, v in self.rel_oids.items()}
        return by_oid.get(int(value), str(value))  # type: ignore[call-overload]

    def regtype(self, value: object) -> object:
        """``x::regtype``: a type name becomes its OID; an OID becomes its SQL spelling."""
        if isinstance(value, str) and not value.isdigit():
            return pgtypes.oid_for_name(value)
        return None if value is None else pgtypes.format_type(int(value))  # type: ignore[call-overload]

    def description(self, oid: object, catalog: object = None) -> str | None:
        """``obj_description(oid[, catalog])``: the table's comment (the SP-API table description)."""
        return self.comments.get((oid, 0)) if isinstance(oid, int) else None

    def col_description(self, oid: object, num: object) -> str | None:
        """``col_description(oid, attnum)``: the column's comment."""
        return self.comments.get((oid, num)) if isinstance(oid, int) and isinstance(num, int) else None

    def current_setting(self, name: object, missing_ok: object = False) -> str | None:
        """``current_setting(name[, missing_ok])`` from the session's settings (SET/SHOW)."""
        key = str(name).lower()
        if key not in self.settings and not missing_ok:
            raise PgError("42704", f'unrecognized configuration parameter "{name}"')
        return self.settings.get(key)

    def set_config(self, name: object, value: object, _is_local: object = False) -> str:
        """``set_config(name, value, is_local)``: like SET (the value checked the same way); returns the value."""
        key = str(name).lower()
        self.settings[key] = setting_value(key, str(value))  # type: ignore[index]
        return self.settings[key]  # type: ignore[index]

    def _register_functions(self) -> None:
        user, const = self.user, _const
        functions: dict[str, Callable[..., Any]] = {
            "current_schema": const("public"), "current_schemas": const("{public}"),
            "current_database": const(self.database_name), "current_catalog": const(self.database_name),
            "current_user": const(user), "session_user": const(user), "current_role": const(user),
            "pg_backend_pid": const(os.getpid()), "pg_get_expr": const(None), "pg_get_userbyid": _owner_name(user),
            "pg_table_is_visible": const(1), "pg_type_is_visible": const(1), "pg_function_is_visible": const(1),
            "has_table_privilege": const(1), "has_schema_privilege": const(1), "has_database_privilege": const(1),
            "has_column_privilege": const(1), "pg_has_role": const(1), "pg_encoding_to_char": const("UTF8"),
            "pg_get_constraintdef": const(None), "pg_get_indexdef": const(None), "pg_get_viewdef": const(None),
            "pg_get_triggerdef": const(None), "pg_get_function_result": const(None), "pg_get_partkeydef": const(None),
            "pg_get_function_arguments": const(None), "pg_get_statisticsobjdef_columns": const(None),
            "shobj_description": const(None), "pg_is_in_recovery": const(0), "pg_relation_size": const(0),
            "pg_total_relation_size": const(0), "pg_table_size": const(0), "pg_indexes_size": const(0),
            "pg_database_size": const(0), "pg_tablespace_location": const(""), "pg_my_temp_schema": const(TEMP_OID),
            "pg_is_other_temp_schema": const(0), "txid_current": const(1), "inet_server_addr": const(None),
            "inet_server_port": const(None), "inet_client_addr": const(None), "array_to_string": _array_to_string,
            "pg_size_pretty": lambda n=0: f"{n or 0} bytes", "quote_ident": _quote_ident, "array_upper": const(None),
            "format_type": lambda oid=None, mod=None: pgtypes.format_type(oid, mod),
            "obj_description": self.description, "col_description": self.col_description,
            "pg_regclass": self.regclass, "pg_regtype": self.regtype, "pg_regnamespace": _regnamespace,
            "current_setting": self.current_setting, "set_config": self.set_config,
        }
        for name, func in functions.items():
            self.con.create_scalar_function(name, func)


def _owner_name(user: str) -> Callable[..., str]:
    return lambda oid=None: "pg_database_owner" if oid == OWNER_ROLE_OID else user


def _const(value: object) -> Callable[..., object]:
    return lambda *_args: value


def _array_to_string(value: object = None, sep: object = ",", *_rest: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[1:-1].replace(",", str(sep)) if text.startswith("{") and text.endswith("}") else text


def _quote_ident(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.isidentifier() and text.islower() else '"' + text.replace('"', '""') + '"'


def _regnamespace(value: object) -> object:
    names = {PUBLIC_OID: "public", CATALOG_OID: "pg_catalog", INFO_SCHEMA_OID: "information_schema",
             TEMP_OID: "pg_temp_3"}
    if isinstance(value, int):
        return names.get(value, str(value))
    return {v: k for k, v in names.items()}.get(str(value))
