    local.redis_container_secrets,
