    local.sharding_container_secrets,
