# - SHARD_URLS (set outside Terraform) and SHARD_REPLICA_URLS (written by it): sharding.tf.
