    aws_secretsmanager_secret.shard_urls.arn,
    aws_secretsmanager_secret.shard_replica_urls.arn,
