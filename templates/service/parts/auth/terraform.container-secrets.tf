    local.auth_container_secrets,
