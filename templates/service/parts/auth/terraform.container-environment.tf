    local.auth_container_environment,
