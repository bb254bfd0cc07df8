"""nsmigrate: move applications between Kubernetes namespaces with zero downtime."""
