#   rate-limit-per-address (rate limiting): more than var.waf_rate_limit requests from one
#     source address in a sliding 5-minute window is answered 429 (problem+json, Retry-After)
#     until it slows down. Deliberately coarse, like the NGINX edge of compose: the app's own
#     limiter (per client and route group, with RateLimit headers) is the one clients meet.
