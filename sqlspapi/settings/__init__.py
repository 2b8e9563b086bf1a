"""Connection settings: the connection-string grammar, the key catalogue, regions and marketplaces → Settings."""
