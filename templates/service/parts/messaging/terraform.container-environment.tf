    # Messaging: the names the broker permissions are scoped to (worker.tf).
    [
      { name = "MESSAGING_CHANNEL_PREFIX", value = local.messaging_prefix },
      { name = "MESSAGING_CONSUMER_GROUP", value = "${local.messaging_prefix}notifications" },
    ],
