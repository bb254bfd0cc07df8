"""The pure core: rules and decisions over plain data; no network, no Kubernetes client, no HTTP."""
