"""The SQL side: the pushdown planner, routes, the APSW virtual-table glue and row building."""
