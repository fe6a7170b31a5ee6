"""The ports' AWS implementations (boto3)."""
