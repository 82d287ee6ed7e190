"""Adapters: the domain's ports implemented on AWS services (boto3 lives here and nowhere else)."""
