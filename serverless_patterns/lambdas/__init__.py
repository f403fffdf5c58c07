"""Lambda handler code. Never imports aws_cdk; shipped as small assets."""
