"""Render a CloudFormation template for given parameter values, as CloudFormation would.

Conditions are evaluated, resources and outputs whose condition is false are dropped, every
Fn::If is resolved and AWS::NoValue removed. What is left is the template of one concrete
deployment, so a test can ask questions of it ("does the service depend on every listener?")
for each combination of options. Rules are evaluated the same way. Only the intrinsic
functions that conditions and rules may use are evaluated; the others are kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NO_VALUE = object()


def load(name: str) -> dict:
    return cfn_yaml.load(str(DEPLOY / name))


def parameter_values(template: dict, given: dict[str, str]) -> dict[str, str]:
    unknown = set(given) - set(template.get("Parameters", {}))
    assert not unknown, f"not parameters of the template: {sorted(unknown)}"
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    values.update({k: str(v) for k, v in given.items()})
    return values


@dataclass
class Rendered:
    template: dict
    parameters: dict[str, str]
    conditions: dict[str, bool]
    resources: dict[str, dict]
    outputs: dict[str, dict]

    def resource(self, name: str) -> dict:
        return self.resources[name]

    def of_type(self, kind: str) -> dict[str, dict]:
        return {n: r for n, r in self.resources.items() if r["Type"] == kind}

    def dependencies(self, name: str) -> set[str]:
        """Every resource that `name` waits for, directly or through others."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            for dep in direct_dependencies(self.resources[todo.pop()], self.resources):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen


def render(name: str, region: str = "us-east-1", **given: str) -> Rendered:
    template = load(name)
    params = parameter_values(template, given)
    pseudo = {"AWS::Region": region, "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::StackName": "test-stack", "AWS::URLSuffix": "amazonaws.com"}
    conditions: dict[str, bool] = {}

    def condition(cname: str) -> bool:
        if cname not in conditions:
            conditions[cname] = bool(evaluate(template["Conditions"][cname]))
        return conditions[cname]

    def evaluate(node: Any) -> Any:
        """Conditions and rules: Equals, Not, And, Or, Contains, Condition, Ref, Select, Split."""
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return params[arg] if arg in params else pseudo[arg]
            if fn == "Condition":
                return condition(arg)
            if fn == "Fn::Equals":
                a, b = (evaluate(x) for x in arg)
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not evaluate(arg[0])
            if fn == "Fn::And":
                return all(evaluate(x) for x in arg)
            if fn == "Fn::Or":
                return any(evaluate(x) for x in arg)
            if fn == "Fn::Contains":
                values, value = evaluate(arg[0]), evaluate(arg[1])
                return str(value) in [str(v) for v in values]
            if fn == "Fn::Split":
                return str(evaluate(arg[1])).split(arg[0])
            if fn == "Fn::Select":
                items = evaluate(arg[1])
                index = int(evaluate(arg[0]))
                return items[index] if index < len(items) else ""
        if isinstance(node, list):
            return [evaluate(x) for x in node]
        return node

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1 and "Fn::If" in node:
                cname, yes, no = node["Fn::If"]
                return resolve(yes if condition(cname) else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            out = {}
            for k, v in node.items():
                v = resolve(v)
                if v is not NO_VALUE:
                    out[k] = v
            return out
        if isinstance(node, list):
            return [v for v in (resolve(x) for x in node) if v is not NO_VALUE]
        return node

    for cname in template.get("Conditions", {}):
        condition(cname)
    keep = lambda item: "Condition" not in item or condition(item["Condition"])  # noqa: E731
    resources = {n: resolve(r) for n, r in template.get("Resources", {}).items() if keep(r)}
    outputs = {n: resolve(o) for n, o in template.get("Outputs", {}).items() if keep(o)}
    rendered = Rendered(template, params, conditions, resources, outputs)
    rendered.evaluate = evaluate  # type: ignore[attr-defined]
    return rendered


def broken_rules(rendered: Rendered) -> list[str]:
    """The AssertDescription of every rule assertion that fails for these parameters."""
    broken = []
    for rule in rendered.template.get("Rules", {}).values():
        applies = rule.get("RuleCondition")
        if applies is not None and not rendered.evaluate(applies):  # type: ignore[attr-defined]
            continue
        for assertion in rule["Assertions"]:
            if not rendered.evaluate(assertion["Assert"]):  # type: ignore[attr-defined]
                broken.append(assertion["AssertDescription"])
    return broken


def references(node: Any) -> set[str]:
    """Names that a piece of a resource refers to with Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for fn, arg in node.items():
            if fn == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif fn == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
                found.add(target)
            elif fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", text)} - set(variables)
                found |= references(variables)
            else:
                found |= references(arg)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def direct_dependencies(resource: dict, resources: dict[str, dict]) -> set[str]:
    depends = resource.get("DependsOn", [])
    depends = {depends} if isinstance(depends, str) else set(depends)
    return (depends | references(resource)) & set(resources)
