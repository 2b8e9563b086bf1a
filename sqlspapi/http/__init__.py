"""The HTTP side: client, per-account runtime (runtime_for), LWA and RDT tokens, one retry loop, rate limits,
single flight, call log, API error mapping."""
