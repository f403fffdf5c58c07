"""Operator commands for the patterns, run from a workstation or CI with AWS credentials.

``python -m serverless_patterns.ops --help`` lists them. They use boto3 only (never aws_cdk) and
take queue URLs or ARNs as the stack outputs print them.
"""
