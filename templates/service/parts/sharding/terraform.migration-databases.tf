    local.sharding_migration_databases,
