    local.billing_container_environment,
