"""Declarative SP-API table definitions (one TOML file per API section and version), shipped as package data."""
