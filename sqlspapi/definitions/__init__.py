"""Table definitions: the schema of a definition file, the strict loader, and the specs it builds."""
