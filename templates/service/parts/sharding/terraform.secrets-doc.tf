# - Each further shard's master credentials, to its own `migrate-shard-N` container (sharding.tf).
