# - STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET: the `<name>/stripe` secret (keys `api_key`,
#   `webhook_secret`), set by hand (billing.tf).
