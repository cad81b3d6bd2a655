    aws_secretsmanager_secret.redis_url.arn,
