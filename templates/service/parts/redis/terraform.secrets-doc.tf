# - REDIS_URL: the whole URL with the ElastiCache AUTH token (elasticache.tf).
