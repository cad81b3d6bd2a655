    local.sharding_environment,
