    local.billing_container_secrets,
