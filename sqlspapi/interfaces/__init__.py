"""The faces: PEP 249 DB-API, SQLAlchemy dialect, the shell and the command line."""
