"""Emulators for the resource types moto's CloudFormation lacks or gets wrong for this app.

Each function gets the resolved properties of one resource and creates it through the
service's API in moto, returning the physical id (what Ref gives) and the GetAtt
attributes. Types with no API in moto are *recorded*: references resolve, and the report
says they exist only on paper. Importing this package registers them; one module per area:

``compute`` (Lambda, Step Functions, auto scaling), ``storage`` (S3, DynamoDB, SNS/SQS),
``monitoring`` (CloudWatch, Logs), ``api`` (API Gateway), ``security`` (KMS, Secrets Manager,
Cognito, WAF, CDK metadata).
"""

from serverless_patterns.local.resources import api, compute, monitoring, security, storage

__all__ = ["api", "compute", "monitoring", "security", "storage"]
