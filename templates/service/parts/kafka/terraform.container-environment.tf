    # Kafka: MSK Serverless with IAM authentication (msk.tf).
    [
      { name = "KAFKA_BOOTSTRAP_SERVERS", value = aws_msk_serverless_cluster.main.bootstrap_brokers_sasl_iam },
      { name = "KAFKA_SECURITY", value = "iam" },
      { name = "KAFKA_REPLICATION_FACTOR", value = "3" },
      { name = "AWS_REGION", value = local.region },
    ],
