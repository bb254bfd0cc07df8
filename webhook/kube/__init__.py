"""The Kubernetes side: the only code that talks to the API server (client, watches, cache, loops)."""
