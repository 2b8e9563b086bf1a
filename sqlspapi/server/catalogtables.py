"""The tables of the emulated ``pg_catalog`` and ``information_schema``: each table's columns and their types.

Each table is ``"column type, …"`` in PostgreSQL type names (:mod:`~sqlspapi.server.pgtypes` maps them to OIDs and
SQLite affinities); :class:`~sqlspapi.server.catalog.Catalog` creates them in the attached databases of the same
names and fills them.
"""

from __future__ import annotations

__all__ = ["CATALOG_TABLES", "INFO_TABLES"]

#: ``pg_catalog`` table → "column type, …"
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
#: ``information_schema`` table → "column type, …"
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
