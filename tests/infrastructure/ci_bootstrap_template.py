"""The CI bootstrap stack synthesized under its compliance gates, and its roles by name."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, assertions

from serverless_patterns.stacks.ci_bootstrap import CiBootstrapStack, add_ci_bootstrap

REPOSITORY = "example-org/serverless-patterns"


def synthesized(
    cdk_context: dict[str, Any], outdir: str, **options: Any
) -> tuple[CiBootstrapStack, assertions.Template]:
    """``add_ci_bootstrap`` for REPOSITORY in 111122223333/eu-west-1, with ``options``; synth runs the gates."""
    app = App(context=cdk_context, outdir=outdir)
    stack = add_ci_bootstrap(app, repository=REPOSITORY, account="111122223333", region="eu-west-1", **options)
    app.synth()
    return stack, assertions.Template.from_stack(stack)


def roles_by_name(template: assertions.Template) -> dict[str, dict[str, Any]]:
    """Each ``AWS::IAM::Role``'s properties, by its ``RoleName``."""
    return {
        role["Properties"]["RoleName"]: role["Properties"]
        for role in template.find_resources("AWS::IAM::Role").values()
    }
