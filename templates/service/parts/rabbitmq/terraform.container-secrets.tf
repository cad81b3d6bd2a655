    local.rabbitmq_container_secrets,
