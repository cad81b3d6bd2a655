    local.observability_containers,
