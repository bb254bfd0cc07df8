"""A local development cluster: real etcd and kube-apiserver, with the webhook serving and registered."""
