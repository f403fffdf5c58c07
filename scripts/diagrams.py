#!/usr/bin/env python3
"""Architecture pictures, one per pattern, drawn from the synthesized app (``make diagrams``).

Synthesizes one environment of the real app (Prod by default: it has every feature, such as
Cognito auth, provisioned concurrency and alarm e-mails; with cdk.json's context and the
compliance gates), reads its service stack as CloudFormation sees it (the resources,
the construct path of each, and the references between them) and draws each pattern with
Graphviz's ``dot`` into ``docs/diagrams/<pattern>.png``. Nothing is drawn by hand, so a
picture shows what the construct really deploys: when a pattern changes, run
``make diagrams`` and commit the new pictures (``make test`` never needs Graphviz).

What becomes a box: functions, queues, tables, buckets, APIs, state machines, event buses,
topics, secrets, user pools, dashboards and composite alarms; a pattern's alarms and saved
queries become one box each. Everything else (aliases, versions, roles, policies, log groups,
permissions, invoke configs) is folded into the box it belongs to (the closest enclosing
construct that has one). Arrows come from the references themselves: an event source
mapping (queue -> function), S3 notifications (bucket -> function), on-failure destinations,
redrive policies, API integrations, state machine tasks (labelled with the state's name),
EventBridge rules and schedules, alarm actions, and each function's environment variables
that name a resource (function -> resource, labelled with the variable). Resources of
another pattern are drawn dashed; the observability picture shows the other patterns as one
box each.

Graphviz: ``apt-get install graphviz`` (Debian), ``brew install graphviz`` (macOS).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "diagrams"
# Patterns whose resources are drawn inside another pattern's picture.
MERGED_INTO = {"AlarmTopic": "Observability"}
# In this picture every resource of another pattern is drawn as that pattern (it observes them all).
SUMMARY_PICTURE = "Observability"

NODE_TYPES = {
    "AWS::Lambda::Function": "function",
    "AWS::SQS::Queue": "queue",
    "AWS::DynamoDB::GlobalTable": "table",
    "AWS::DynamoDB::Table": "table",
    "AWS::S3::Bucket": "bucket",
    "AWS::ApiGateway::RestApi": "api",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Events::EventBus": "event bus",
    "AWS::SNS::Topic": "topic",
    "AWS::SecretsManager::Secret": "secret",
    "AWS::Cognito::UserPool": "user pool",
    "AWS::CloudWatch::Dashboard": "dashboard",
    "AWS::CloudWatch::CompositeAlarm": "composite alarm",
}
SERVICE_NAMES = {
    "bucket": "S3 bucket",
    "api": "API Gateway (REST)",
    "event bus": "EventBridge bus",
    "topic": "SNS topic",
    "secret": "Secrets Manager",
    "user pool": "Cognito user pool",
    "dashboard": "CloudWatch dashboard",
    "composite alarm": "composite alarm",
}
GROUPED_TYPES = {"AWS::CloudWatch::Alarm": "alarms", "AWS::Logs::QueryDefinition": "queries"}
# shape, fill colour (AWS architecture-icon families), font colour
STYLES: dict[str, tuple[str, str, str]] = {
    "function": ("box", "#ED7100", "white"),
    "queue": ("box", "#E7157B", "white"),
    "table": ("cylinder", "#3B48CC", "white"),
    "bucket": ("folder", "#7AA116", "white"),
    "api": ("component", "#8C4FFF", "white"),
    "state machine": ("box3d", "#E7157B", "white"),
    "event bus": ("hexagon", "#E7157B", "white"),
    "schedule": ("hexagon", "#E7157B", "white"),
    "topic": ("cds", "#E7157B", "white"),
    "secret": ("note", "#DD344C", "white"),
    "user pool": ("house", "#DD344C", "white"),
    "dashboard": ("tab", "#E7157B", "white"),
    "composite alarm": ("doubleoctagon", "#E7157B", "white"),
    "alarms": ("octagon", "#E7157B", "white"),
    "queries": ("note", "#E7157B", "white"),
    "email": ("plain", "white", "black"),
    "pattern": ("box", "#F2F3F3", "black"),
}
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@dataclass(frozen=True)
class Node:
    """One box: a resource (or a group of them) and how to draw it."""

    key: str
    pattern: str
    kind: str
    label: str


@dataclass(frozen=True)
class Edge:
    """One arrow between two boxes."""

    source: str
    target: str
    label: str = ""


@dataclass
class Diagram:
    """One pattern's picture."""

    pattern: str
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    external: set[str] = field(default_factory=set)
    edges: list[Edge] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """The picture's file name: ``EventPipeline`` -> ``event-pipeline``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.pattern).lower()


@dataclass(frozen=True)
class StackModel:
    """What the pictures are drawn from: the template, each resource's construct path, the patterns."""

    template: Mapping[str, Any]
    paths: Mapping[str, str]
    stack_path: str
    patterns: Mapping[str, str]
    environment: str


# --- reading the synthesized app ---------------------------------------------------------------------


def synthesize(environment: str) -> StackModel:
    """Synthesize ``environment`` of the real app (compliance gates included) and describe its service stack."""
    from aws_cdk import App

    from serverless_patterns.stacks.app import add_environments

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory(prefix="diagrams-cdk-out-") as outdir:
        app = App(context=context, outdir=outdir)
        (stage,) = add_environments(app, only=environment)
        app.synth()
        return describe(stage.service, environment=stage.stage_name)


def describe(stack: Any, *, environment: str) -> StackModel:
    """The model of a synthesized ``Stack``: its template and the construct path of every resource."""
    from aws_cdk import CfnResource, assertions

    template = assertions.Template.from_stack(stack).to_json()
    paths = {
        stack.resolve(child.logical_id): child.node.path
        for child in stack.node.find_all()
        if isinstance(child, CfnResource)
    }
    patterns = {
        child.node.id: type(child).__name__
        for child in stack.node.children
        if type(child).__module__.startswith("serverless_patterns.constructs.")
    }
    return StackModel(
        template=template, paths=paths, stack_path=stack.node.path, patterns=patterns, environment=environment
    )


# --- building the pictures ---------------------------------------------------------------------------


def build_diagrams(model: StackModel) -> list[Diagram]:
    """One diagram per pattern of the stack (patterns in ``MERGED_INTO`` are drawn in their host's)."""
    return _Builder(model).diagrams()


class _Builder:
    def __init__(self, model: StackModel) -> None:
        self.model = model
        self.resources: Mapping[str, Any] = model.template.get("Resources", {})
        self.pattern_of: dict[str, str] = {}
        self.relative: dict[str, str] = {}
        for logical_id in self.resources:
            path = model.paths.get(logical_id, "")
            parts = path.removeprefix(model.stack_path + "/").split("/")
            if path.startswith(model.stack_path + "/") and parts[0] in model.patterns:
                self.pattern_of[logical_id] = MERGED_INTO.get(parts[0], parts[0])
                self.relative[logical_id] = "/".join(parts[1:])
        self.nodes: dict[str, Node] = {}
        self.owner: dict[str, str] = {}
        self._index_nodes()

    # boxes

    def _index_nodes(self) -> None:
        construct_of: dict[str, str] = {}  # node key -> its construct path (the path without /Resource)
        for logical_id, resource in self.resources.items():
            pattern = self.pattern_of.get(logical_id)
            if pattern is None:
                continue
            kind = NODE_TYPES.get(resource["Type"])
            if kind is not None:
                self.nodes[logical_id] = Node(logical_id, pattern, kind, self._label(logical_id, kind))
                self.owner[logical_id] = logical_id
                construct_of[logical_id] = _construct_path(self.model.paths[logical_id])
            elif resource["Type"] in GROUPED_TYPES:
                group = GROUPED_TYPES[resource["Type"]]
                self.owner[logical_id] = f"{pattern}:{group}"
        counts = Counter(self.owner[key] for key in self.owner if ":" in self.owner[key])
        for key, count in counts.items():
            pattern, group = key.split(":")
            noun = {"alarms": "CloudWatch alarm", "queries": "Logs Insights quer"}[group]
            noun += {"alarms": "s", "queries": "ies"}[group] if count != 1 else {"alarms": "", "queries": "y"}[group]
            self.nodes[key] = Node(key, pattern, group, f"{count} {noun}")
        # Everything else belongs to the box of its closest enclosing construct.
        for logical_id in self.resources:
            if logical_id in self.owner or logical_id not in self.pattern_of:
                continue
            path = self.model.paths[logical_id]
            candidates = [
                (len(construct), key)
                for key, construct in construct_of.items()
                if path.startswith(construct + "/") and self.nodes[key].pattern == self.pattern_of[logical_id]
            ]
            if candidates:
                self.owner[logical_id] = max(candidates)[1]
        for key, node in list(self.nodes.items()):
            if node.kind == "function":
                self.nodes[key] = Node(key, node.pattern, node.kind, node.label + self._concurrency(key))

    def _concurrency(self, function: str) -> str:
        """Reserved and provisioned concurrency (the latter configured on the function's alias)."""
        notes = []
        reserved = self.resources[function].get("Properties", {}).get("ReservedConcurrentExecutions")
        if reserved is not None:
            notes.append(f"reserved {reserved}")
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::Lambda::Alias" and self.owner.get(logical_id) == function:
                provisioned = resource.get("Properties", {}).get("ProvisionedConcurrencyConfig")
                if provisioned:
                    notes.append(f"provisioned {provisioned['ProvisionedConcurrentExecutions']}")
        return "\n" + " · ".join(notes) if notes else ""

    def _label(self, logical_id: str, kind: str) -> str:
        properties = self.resources[logical_id].get("Properties", {})
        top, relative = self._top_construct(logical_id), _construct_path("/" + self.relative[logical_id])[1:]
        if top != self.pattern_of[logical_id]:  # a merged pattern's resource keeps its own construct's name
            relative = f"{top}/{relative}" if relative else top
        name = relative or top
        return f"{name}\n{self._detail(logical_id, kind, properties)}"

    def _detail(self, logical_id: str, kind: str, properties: Mapping[str, Any]) -> str:
        """The second line of a box: the service, and what matters about this resource."""
        if kind == "function":
            return f"Lambda · {properties.get('MemorySize', 128)} MB · {properties.get('Timeout', 3)} s"
        if kind == "queue":
            return "SQS · dead-letter queue" if self._is_dead_letter_queue(logical_id) else "SQS queue"
        if kind == "table":
            return "DynamoDB · " + ", ".join(key["AttributeName"] for key in properties.get("KeySchema", []))
        if kind == "state machine":
            return f"Step Functions · {str(properties.get('StateMachineType', 'STANDARD')).lower()}"
        return SERVICE_NAMES[kind]

    def _top_construct(self, logical_id: str) -> str:
        """The id of the pattern-level construct ``logical_id`` is the primary resource of."""
        return self.model.paths[logical_id].removeprefix(self.model.stack_path + "/").split("/")[0]

    def _is_dead_letter_queue(self, logical_id: str) -> bool:
        for resource in self.resources.values():
            properties = resource.get("Properties", {})
            targets = [
                properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
                properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                *(t.get("DeadLetterConfig", {}).get("Arn") for t in properties.get("Targets", [])),
            ]
            if any(logical_id in _references(target) for target in targets if target):
                return True
        return False

    # arrows

    def _edges(self) -> Iterator[Edge]:
        for logical_id, resource in self.resources.items():
            properties = resource.get("Properties", {})
            kind = resource["Type"]
            if kind == "AWS::Lambda::EventSourceMapping":
                label = f"batch {properties.get('BatchSize', 10)}"
                if "ScalingConfig" in properties:
                    label += f", ≤{properties['ScalingConfig'].get('MaximumConcurrency')} concurrent"
                yield from self._link(properties.get("EventSourceArn"), properties.get("FunctionName"), label)
            elif kind == "Custom::S3BucketNotifications":
                configurations = properties.get("NotificationConfiguration", {}).get("LambdaFunctionConfigurations", [])
                for configuration in configurations:
                    rules = configuration.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                    match = "*".join(rule["Value"] for rule in sorted(rules, key=lambda rule: rule["Name"] != "prefix"))
                    label = f"object created\n{match or '*'}"
                    yield from self._link(properties.get("BucketName"), configuration.get("LambdaFunctionArn"), label)
            elif kind == "AWS::Lambda::EventInvokeConfig":
                destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                label = f"on failure\n(after {properties.get('MaximumRetryAttempts', 2)} retries)"
                yield from self._link(properties.get("FunctionName"), destination, label)
            elif kind == "AWS::S3::Bucket" and "LoggingConfiguration" in properties:
                destination = properties["LoggingConfiguration"].get("DestinationBucketName")
                yield from self._link({"Ref": logical_id}, destination, "access logs")
            elif kind == "AWS::SQS::Queue" and "RedrivePolicy" in properties:
                policy = properties["RedrivePolicy"]
                label = f"after {policy.get('maxReceiveCount')} receives"
                yield from self._link({"Ref": logical_id}, policy.get("deadLetterTargetArn"), label)
            elif kind == "AWS::ApiGateway::Method":
                integration = properties.get("Integration", {})
                if integration.get("Type") in ("AWS_PROXY", "AWS"):
                    auth = properties.get("AuthorizationType", "NONE").replace("_", " ").lower()
                    label = f"{properties.get('HttpMethod')} proxy\nauth: {auth}"
                    yield from self._link(properties.get("RestApiId"), integration.get("Uri"), label)
            elif kind == "AWS::ApiGateway::Authorizer":
                yield from self._link(properties.get("ProviderARNs"), properties.get("RestApiId"), "ID tokens")
            elif kind == "AWS::StepFunctions::StateMachine":
                for state, target in _state_references(properties.get("DefinitionString")):
                    yield from self._link({"Ref": logical_id}, {"Ref": target}, state)
            elif kind == "AWS::Events::Rule":
                yield from self._rule_edges(logical_id, properties)
            elif kind == "AWS::Lambda::Function":
                for variable, value in sorted(properties.get("Environment", {}).get("Variables", {}).items()):
                    yield from self._link({"Ref": logical_id}, value, variable)
            elif kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                yield from self._link({"Ref": logical_id}, properties.get("AlarmActions"), "ALARM / OK")
                if kind == "AWS::CloudWatch::CompositeAlarm":
                    yield from self._link(properties.get("AlarmRule"), {"Ref": logical_id}, "any in ALARM")
            elif kind == "AWS::CloudWatch::Dashboard":
                yield from self._link({"Ref": logical_id}, properties.get("DashboardBody"), "charts")
            elif kind == "AWS::Logs::QueryDefinition":
                yield from self._link({"Ref": logical_id}, properties.get("LogGroupNames"), "reads logs")
            elif kind == "AWS::SNS::Subscription":
                yield from self._subscription_edges(properties)

    def _rule_edges(self, logical_id: str, properties: Mapping[str, Any]) -> Iterator[Edge]:
        pattern = self.pattern_of.get(logical_id)
        if pattern is None:
            return
        source: Any
        if "ScheduleExpression" in properties:
            key = f"{logical_id}:schedule"
            self.nodes[key] = Node(key, pattern, "schedule", f"schedule\n{properties['ScheduleExpression']}")
            self.owner[key] = key
            source, label = {"Ref": key}, "invokes"
        else:
            source = properties.get("EventBusName")
            detail_types = properties.get("EventPattern", {}).get("detail-type", [])
            label = ", ".join(detail_types) or "matching events"
        for target in properties.get("Targets", []):
            yield from self._link(source, target.get("Arn"), label)
            if "DeadLetterConfig" in target:
                yield from self._link(source, target["DeadLetterConfig"].get("Arn"), "undeliverable")

    def _subscription_edges(self, properties: Mapping[str, Any]) -> Iterator[Edge]:
        topic = properties.get("TopicArn")
        owners = self._owners(topic)
        if not owners or properties.get("Protocol") != "email":
            return
        (topic_key,) = owners
        key = f"email:{properties.get('Endpoint')}"
        self.nodes[key] = Node(key, self.nodes[topic_key].pattern, "email", f"✉ {properties.get('Endpoint')}")
        self.owner[key] = key
        yield Edge(topic_key, key, "e-mail")
        dead_letters = properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        for target in self._owners(dead_letters):
            yield Edge(topic_key, target, "undelivered")

    def _owners(self, value: Any) -> list[str]:
        owners: list[str] = []
        for reference in _references(value):
            owner = self.owner.get(reference)
            if owner is not None and owner not in owners:
                owners.append(owner)
        return owners

    def _link(self, source: Any, target: Any, label: str) -> Iterator[Edge]:
        for source_key in self._owners(source):
            for target_key in self._owners(target):
                if source_key != target_key:
                    yield Edge(source_key, target_key, label)

    # pictures

    def diagrams(self) -> list[Diagram]:
        edges = list(dict.fromkeys(self._edges()))
        hosts = [pattern for pattern in self.model.patterns if pattern not in MERGED_INTO]
        return [self._diagram(pattern, edges) for pattern in hosts]

    def _diagram(self, pattern: str, edges: list[Edge]) -> Diagram:
        construct = self.model.patterns[pattern]
        title = f"{pattern} ({construct})" if construct != pattern else pattern
        title += f" · {self.model.environment} · drawn from the synthesized template"
        diagram = Diagram(pattern=pattern, title=title)
        for node in self.nodes.values():
            if node.pattern == pattern:
                diagram.nodes[node.key] = node
        labels: dict[tuple[str, str], list[str]] = defaultdict(list)
        for edge in edges:
            source, target = self.nodes[edge.source], self.nodes[edge.target]
            if pattern not in (source.pattern, target.pattern):
                continue
            if source.pattern != pattern and source.kind in ("dashboard", "queries", "composite alarm"):
                continue  # the observability picture shows what watches a pattern; the pattern's own does not
            ends = [self._shown(diagram, node) for node in (source, target)]
            if ends[0] != ends[1] and edge.label not in labels[(ends[0], ends[1])]:
                labels[(ends[0], ends[1])].append(edge.label)
        diagram.edges = [Edge(source, target, "\n".join(texts)) for (source, target), texts in labels.items()]
        return diagram

    def _shown(self, diagram: Diagram, node: Node) -> str:
        """The box ``node`` appears as in ``diagram``: itself, or its pattern (in the summary picture)."""
        if node.pattern == diagram.pattern:
            return node.key
        if diagram.pattern == SUMMARY_PICTURE:
            key = f"pattern:{node.pattern}"
            construct = self.model.patterns[node.pattern]
            label = node.pattern if construct == node.pattern else f"{node.pattern}\n{construct}"
            diagram.nodes[key] = Node(key, node.pattern, "pattern", label)
        else:
            key = node.key
            diagram.nodes[key] = Node(key, node.pattern, node.kind, f"{node.label}\n(in {node.pattern})")
        diagram.external.add(key)
        return key


def _construct_path(path: str) -> str:
    """The path of the construct a resource is the primary of: ``Validate/Resource/Resource`` -> ``Validate``."""
    while path.endswith("/Resource"):
        path = path.removesuffix("/Resource")
    return path


def _references(value: Any) -> Iterator[str]:
    """Logical ids named by ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` anywhere inside ``value``."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            yield value["Ref"]
            return
        if set(value) == {"Fn::GetAtt"}:
            attribute = value["Fn::GetAtt"]
            yield attribute[0] if isinstance(attribute, list) else str(attribute).split(".")[0]
            return
        if set(value) == {"Fn::Sub"}:
            template = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            yield from _SUB_REFERENCE.findall(template)
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _state_references(definition: Any) -> Iterator[tuple[str, str]]:
    """``(state name, logical id)`` for every resource a state machine definition names."""
    if not (isinstance(definition, dict) and "Fn::Join" in definition):
        return
    separator, parts = definition["Fn::Join"]
    tokens: dict[str, str] = {}
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            references = list(_references(part))
            token = f"__reference_{len(tokens)}__"
            tokens[token] = references[0] if references else ""
            text += token
        text += separator
    states = json.loads(text.removesuffix(separator) if separator else text).get("States", {})
    yield from _walk_states(states, tokens)


def _walk_states(states: Mapping[str, Any], tokens: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    for name, state in states.items():
        own = {key: value for key, value in state.items() if key not in ("Branches", "Iterator", "ItemProcessor")}
        for token, logical_id in tokens.items():
            if logical_id and token in json.dumps(own):
                yield name, logical_id
        for branch in [*state.get("Branches", []), state.get("Iterator"), state.get("ItemProcessor")]:
            if branch:
                yield from _walk_states(branch.get("States", {}), tokens)


# --- drawing -------------------------------------------------------------------------------------------


def to_dot(diagram: Diagram) -> str:
    """The diagram in Graphviz's DOT language."""
    lines = [
        f'digraph "{diagram.slug}" {{',
        "  rankdir=LR; newrank=true; nodesep=0.35; ranksep=0.6; pad=0.3;",
        f'  label="{_escape(diagram.title)}"; labelloc=t; fontsize=18; fontname="Helvetica-Bold";',
        '  node [fontname="Helvetica", fontsize=11, style="filled,rounded", penwidth=0, margin="0.18,0.08"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#545B64", fontcolor="#545B64", arrowsize=0.7];',
    ]
    for key in sorted(diagram.nodes):
        node = diagram.nodes[key]
        shape, fill, font = STYLES[node.kind]
        style = "filled,rounded" if shape == "box" else "filled"
        if key in diagram.external:
            fill, font, style = "#F2F3F3", "#232F3E", style + ",dashed"
            extra = ', penwidth=1, color="#879596"'
        else:
            extra = ""
        lines.append(
            f'  "{_escape(key)}" [label="{_escape(node.label)}", shape={shape}, fillcolor="{fill}", '
            f'fontcolor="{font}", style="{style}"{extra}];'
        )
    for edge in diagram.edges:
        lines.append(f'  "{_escape(edge.source)}" -> "{_escape(edge.target)}" [label="{_escape(edge.label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(dot_source: str, destination: Path, *, image_format: str = "png") -> None:
    """Run Graphviz's ``dot`` on ``dot_source`` into ``destination``."""
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("Graphviz's `dot` is not installed: apt-get install graphviz (or brew install graphviz)")
    subprocess.run(  # noqa: S603 (our own executable lookup and arguments)
        [dot, f"-T{image_format}", "-Gdpi=96", "-o", str(destination)], input=dot_source.encode(), check=True
    )


def main(argv: list[str] | None = None) -> int:
    """Synthesize, build every pattern's diagram, draw them; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="prod", help="environment to draw (default prod: auth, concurrency)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--format", default="png", choices=("png", "svg", "dot"), help="image format (default png)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for diagram in build_diagrams(synthesize(args.env)):
        destination = args.out / f"{diagram.slug}.{args.format}"
        source = to_dot(diagram)
        if args.format == "dot":
            destination.write_text(source)
        else:
            render(source, destination, image_format=args.format)
        print(f"{destination.relative_to(ROOT) if destination.is_relative_to(ROOT) else destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
