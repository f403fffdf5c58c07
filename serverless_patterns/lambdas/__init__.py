"""Lambda handler code. Never imports aws_cdk; shipped as small assets.

Importing it in a Lambda execution environment holds the garbage collector back until the first
invocation (``shared.cold_init``).
"""

from serverless_patterns.lambdas.shared import cold_init

cold_init.hold_back()
