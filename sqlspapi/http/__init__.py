"""The HTTP side: client, LWA and RDT tokens, rate limits, single flight, call log, API error mapping."""
