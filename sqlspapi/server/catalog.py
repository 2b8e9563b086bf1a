"""The emulated ``pg_catalog`` and ``information_schema`` that BI drivers query to discover sqlspapi's tables.

Both live in attached ``:memory:`` databases named ``pg_catalog`` and ``information_schema``, so the catalog SQL that
psqlODBC, psql and pgjdbc send runs in SQLite mostly unchanged (SQLite resolves a bare ``pg_class`` through the
attached databases too). The tables are filled from ``sqlite_schema`` and ``PRAGMA table_xinfo`` of ``main`` (schema
``public``) and ``temp`` (schema ``pg_temp_3``) and refreshed whenever either schema changes. Hidden columns
(API parameters of table-valued functions) are not listed, matching ``SELECT *``. The catalog functions drivers
call (``format_type``, ``pg_get_userbyid``, ``obj_description`` …) are registered as SQLite functions.

The session's settings live here too: :func:`parse_set` reads ``SET``, :func:`setting_value` checks a value and
writes it as PostgreSQL shows it (timeouts: ``500ms``, ``5s``, ``1min``), :func:`timeout_ms` reads a timeout back
and :func:`show` answers ``SHOW``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import apsw

from . import pgtypes
from .pgerror import PgError

PUBLIC_OID, CATALOG_OID, INFO_SCHEMA_OID, TEMP_OID = 2200, 11, 13000, 16000
USER_OID, DATABASE_OID, FIRST_TABLE_OID, OWNER_ROLE_OID = 10, 16384, 16400, 6171
SYSTEM_CLASSES = {"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259, "pg_namespace": 2615,
                  "pg_description": 2609, "pg_constraint": 2606, "pg_database": 1262, "pg_index": 2610}
DEFAULT_SETTINGS: dict[str, str] = {
    "server_version": "15.0", "server_version_num": "150000", "server_encoding": "UTF8", "client_encoding": "UTF8",
    "datestyle": "ISO, MDY", "timezone": "UTC", "intervalstyle": "postgres", "integer_datetimes": "on",
    "standard_conforming_strings": "on", "transaction_isolation": "read committed", "default_transaction_isolation":
    "read committed", "transaction_read_only": "on", "default_transaction_read_only": "on", "search_path":
    '"$user", public', "max_identifier_length": "63", "max_index_keys": "32", "extra_float_digits": "1",
    "lc_collate": "C", "lc_ctype": "C", "lc_messages": "C", "application_name": "", "is_superuser": "off",
    "statement_timeout": "0", "lock_timeout": "0", "bytea_output": "hex", "ssl": "off", "block_size": "8192",
    "max_connections": "100", "session_authorization": "", "row_security": "on", "jit": "off",
}

_B, _C, _I2, _I4, _N, _O, _T = "bool", "char", "int2", "int4", "name", "oid", "text"
# table → "column type, …" (PostgreSQL type names: pgtypes maps them to OIDs and SQLite affinities)
CATALOG_TABLES: dict[str, str] = {
    "pg_namespace": "oid oid, nspname name, nspowner oid, nspacl text",
    "pg_class": "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, "
    "relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, "
    "relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, "
    "relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, "
    "relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid int8, "
    "relminmxid int8, relacl text, reloptions text, relpartbound text, relhasoids bool",
    "pg_attribute": "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, "
    "attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, "
    "attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, "
    "attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl text, attoptions text, "
    "attfdwoptions text, attmissingval text",
    "pg_type": "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, "
    "typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript regproc, "
    "typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, "
    "typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull bool, "
    "typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin text, typdefault text, "
    "typacl text",
    "pg_attrdef": "oid oid, adrelid oid, adnum int2, adbin text",
    "pg_index": "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indisprimary bool, "
    "indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, "
    "indisready bool, indislive bool, indisreplident bool, indkey int2vector, indcollation oidvector, "
    "indclass oidvector, indoption int2vector, indexprs text, indpred text, indnullsnotdistinct bool",
    "pg_am": "oid oid, amname name, amhandler regproc, amtype char",
    "pg_database": "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, "
    "datallowconn bool, datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace oid, datcollate text, "
    "datctype text, daticulocale text, datcollversion text, datacl text",
    "pg_roles": "oid oid, rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, "
    "rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, "
    "rolbypassrls bool, rolconfig text",
    "pg_user": "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, "
    "passwd text, valuntil timestamptz, useconfig text",
    "pg_settings": "name text, setting text, unit text, category text, short_desc text, extra_desc text, "
    "context text, vartype text, source text, min_val text, max_val text, enumvals text, boot_val text, "
    "reset_val text, sourcefile text, sourceline int4, pending_restart bool",
    "pg_description": "objoid oid, classoid oid, objsubid int4, description text",
    "pg_constraint": "oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, "
    "convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, "
    "confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey text, "
    "confkey text, conpfeqop text, conppeqop text, conffeqop text, conexclop text, conbin text",
    "pg_proc": "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4, "
    "provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, proisstrict bool, "
    "proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, prorettype oid, "
    "proargtypes oidvector, proallargtypes text, proargmodes text, proargnames text, proargdefaults text, "
    "protrftypes text, prosrc text, probin text, prosqlbody text, proconfig text, proacl text",
    "pg_inherits": "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool",
    "pg_trigger": "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, "
    "tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, "
    "tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs bytea, tgqual text, tgoldtable name, tgnewtable name",
    "pg_policy": "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles text, polqual text, "
    "polwithcheck text",
    "pg_statistic_ext": "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, "
    "stxkeys int2vector, stxkind text, stxexprs text",
    "pg_publication": "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, "
    "pubdelete bool, pubtruncate bool, pubviaroot bool",
    "pg_publication_namespace": "oid oid, pnpubid oid, pnnspid oid",
    "pg_publication_rel": "oid oid, prpubid oid, prrelid oid, prqual text, prattrs int2vector",
    "pg_collation": "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, "
    "collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, "
    "collversion text",
    "pg_tablespace": "oid oid, spcname name, spcowner oid, spcacl text, spcoptions text",
    "pg_foreign_table": "ftrelid oid, ftserver oid, ftoptions text",
    "pg_partitioned_table": "partrelid oid, partstrat char, partnatts int2, partdefid oid, partattrs int2vector, "
    "partclass oidvector, partcollation oidvector, partexprs text",
    "pg_rewrite": "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, "
    "ev_qual text, ev_action text",
    "pg_extension": "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, "
    "extconfig text, extcondition text",
    "pg_enum": "oid oid, enumtypid oid, enumsortorder float4, enumlabel name",
    "pg_range": "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, "
    "rngcanonical regproc, rngsubdiff regproc",
    "pg_depend": "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char",
    "pg_sequence": "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, "
    "seqcache int8, seqcycle bool",
    "pg_language": "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool",
    "pg_event_trigger": "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled char",
    "pg_tables": "schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, "
    "hasrules bool, hastriggers bool, rowsecurity bool",
    "pg_views": "schemaname name, viewname name, viewowner name, definition text",
    "pg_matviews": "schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool, "
    "ispopulated bool, definition text",
    "pg_indexes": "schemaname name, tablename name, indexname name, tablespace name, indexdef text",
    "pg_stat_activity": "datid oid, datname name, pid int4, usesysid oid, usename name, application_name text, "
    "client_addr text, backend_start timestamptz, state text, query text",
}
INFO_TABLES: dict[str, str] = {
    "schemata": "catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name, "
    "default_character_set_schema name, default_character_set_name name, sql_path text",
    "tables": "table_catalog name, table_schema name, table_name name, table_type text, "
    "self_referencing_column_name name, reference_generation text, user_defined_type_catalog name, "
    "user_defined_type_schema name, user_defined_type_name name, is_insertable_into text, is_typed text, "
    "commit_action text",
    "columns": "table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, "
    "column_default text, is_nullable text, data_type text, character_maximum_length int4, "
    "character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, "
    "datetime_precision int4, interval_type text, interval_precision int4, character_set_catalog name, "
    "character_set_schema name, character_set_name name, collation_catalog name, collation_schema name, "
    "collation_name name, domain_catalog name, domain_schema name, domain_name name, udt_catalog name, "
    "udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name name, "
    "maximum_cardinality int4, dtd_identifier name, is_self_referencing text, is_identity text, "
    "identity_generation text, identity_start text, identity_increment text, identity_maximum text, "
    "identity_minimum text, identity_cycle text, is_generated text, generation_expression text, is_updatable text",
    "views": "table_catalog name, table_schema name, table_name name, view_definition text, check_option text, "
    "is_updatable text, is_insertable_into text, is_trigger_updatable text, is_trigger_deletable text, "
    "is_trigger_insertable_into text",
    "table_constraints": "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, "
    "table_schema name, table_name name, constraint_type text, is_deferrable text, initially_deferred text, "
    "enforced text, nulls_distinct text",
    "key_column_usage": "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, "
    "table_schema name, table_name name, column_name name, ordinal_position int4, "
    "position_in_unique_constraint int4",
    "referential_constraints": "constraint_catalog name, constraint_schema name, constraint_name name, "
    "unique_constraint_catalog name, unique_constraint_schema name, unique_constraint_name name, match_option text, "
    "update_rule text, delete_rule text",
    "routines": "specific_catalog name, specific_schema name, specific_name name, routine_catalog name, "
    "routine_schema name, routine_name name, routine_type text, data_type text",
    "parameters": "specific_catalog name, specific_schema name, specific_name name, ordinal_position int4, "
    "parameter_mode text, parameter_name name, data_type text",
}


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


# ---- settings: SET, SHOW and the timeouts --------------------------------------------------------------------------
_SET_RE = re.compile(r"set\s+(?:(session|local)\s+)?(?:(time\s+zone)\s+(.*)|([\w.]+)\s*(?:=|\bto\b)\s*(.*))",
                     re.I | re.S)
_SET_ITEM = re.compile(r"'[^']*+(?:''[^']*+)*+'|[^,]+")  # a quoted value ('' inside) or anything up to a comma
_TIMEOUTS = {"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "idle_session_timeout"}
_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_TIMEOUT_RE = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*")
_MAX_TIMEOUT = 2**31 - 1  # milliseconds, as PostgreSQL's int setting


def parse_set(sql: str) -> tuple[str, str | None, bool]:
    """``SET [SESSION|LOCAL] name {TO|=} value[, …]`` / ``SET TIME ZONE x``: ``(name, value, local)``; the value is
    None for ``DEFAULT``, its parts unquoted and joined with ", "."""
    match = _SET_RE.match(sql.strip().rstrip(";"))
    if not match:
        raise PgError("42601", f"syntax error in SET: {sql[:80]!r}")
    name = "timezone" if match.group(2) else match.group(4).lower()
    value = (match.group(3) or match.group(5) or "").strip()
    local = (match.group(1) or "").lower() == "local"
    if value.lower() == "default":
        return name, None, local
    parts = [p.strip() for p in _SET_ITEM.findall(value)]
    return name, ", ".join(p[1:-1].replace("''", "'") if p.startswith("'") else p for p in parts), local


def _milliseconds(value: str) -> float | None:
    """A time setting's value (``500``, ``'5s'``, ``1.5min``: no unit is ms) in milliseconds; None if unreadable."""
    match = _TIMEOUT_RE.fullmatch(value)
    if match is None or match.group(2) and match.group(2) not in _TIME_UNITS:
        return None
    return float(match.group(1)) * _TIME_UNITS[match.group(2) or "ms"]


def setting_value(name: str, value: str) -> str:
    """The value ``name`` holds after ``SET name = value``: a timeout is checked (22023 when invalid or out of range)
    and written as PostgreSQL's SHOW writes it, in the largest unit that divides it (``90000`` → ``90s``)."""
    if name not in _TIMEOUTS:
        return value
    milliseconds = _milliseconds(value)
    if milliseconds is None:
        raise PgError("22023", f'invalid value for parameter "{name}": "{value[:80]}"',
                      hint='Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".')
    if not math.isfinite(milliseconds) or not 0 <= round(milliseconds) <= _MAX_TIMEOUT:
        raise PgError("22023", f'{value.strip()[:80]} is outside the valid range for parameter "{name}" '
                               f"(0 .. {_MAX_TIMEOUT} ms)")
    whole = round(milliseconds)
    unit = next((u for u in ("d", "h", "min", "s", "ms") if whole % _TIME_UNITS[u] == 0), "ms")
    return "0" if whole == 0 else f"{whole // int(_TIME_UNITS[unit])}{unit}"


def timeout_ms(value: str) -> int:
    """A timeout setting's value in whole milliseconds (0, or unreadable: no timeout)."""
    milliseconds = _milliseconds(value)
    return round(milliseconds) if milliseconds is not None and math.isfinite(milliseconds) and milliseconds > 0 else 0


def show(settings: Mapping[str, str], sql: str) -> tuple[list[str], list[tuple]]:
    """``SHOW name`` / ``SHOW ALL``: the column names and rows PostgreSQL returns."""
    name = " ".join(sql.strip().rstrip(";").split()[1:]).lower().strip('"')
    name = {"time zone": "timezone", "transaction isolation level": "transaction_isolation"}.get(name, name)
    if name == "all":
        return ["name", "setting", "description"], [(k, v, "") for k, v in sorted(settings.items())]
    if name not in settings:
        raise PgError("42704", f'unrecognized configuration parameter "{name}"')
    return [name], [(settings[name],)]
