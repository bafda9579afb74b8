"""Start moto's server with two fixes to its change sets, which `aws cloudformation deploy` uses.

moto 5.2 differs from AWS in two ways that matter to deploy.sh; both are patched below so the
tests exercise the script as it runs against AWS, not a variant of it:

1. Outputs: moto builds a stack's outputs when the stack object is created. For a change set it
   creates the stack with an empty template and never rebuilds the outputs after executing the
   change set, so every stack would report no outputs (deploy.sh reads them to wire the stacks
   together), nor registers its exports (so deleting the stack fails). The patch rebuilds
   both, and records the new parameters, as moto's own create-stack and update-stack do.
2. Empty change sets: given the same template and parameters again, AWS creates the change set
   and marks it FAILED with "The submitted information didn't contain changes", which
   `aws cloudformation deploy --no-fail-on-empty-changeset` treats as success. moto instead
   rejects the CreateChangeSet call ("No updates are to be performed"). The patch lets the call
   through so moto's backend marks the change set FAILED as AWS does (update-stack keeps its
   rejection, which matches AWS).
3. Previous parameter values: on an update, `aws cloudformation deploy` sends UsePreviousValue
   for every parameter it is not given. moto answers those with its typed, resolved values
   (lists, numbers) that its own parser then fails on, and compares them with the raw values it
   stored, so an unchanged stack looks changed. The patch keeps the raw string values of all
   parameters (given or defaulted) as AWS does.
4. `Ref` to an `AWS::RDS::DBParameterGroup` yields moto's Python object instead of the group
   name (the class lacks physical_resource_id), which then breaks the DB instance that names
   the group. The patch returns the name, as AWS does.
5. `AWS::NoValue` inside a list (an `Fn::If` that drops one environment variable, policy or
   security group) leaves a null item in moto instead of removing the item, which breaks IAM
   roles and task definitions. The patch removes such items, as AWS does.
6. `Fn::GetAtt` on an `AWS::ElasticLoadBalancingV2::TargetGroup` is not implemented (the
   alarms, the dashboard and the request-count scaling use TargetGroupFullName). The patch
   answers the documented attributes from the target group's ARN and name.

Usage: python moto_server.py -H 127.0.0.1 -p PORT   (the same arguments as moto_server)
"""

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.elbv2.models import FakeTargetGroup
from moto.rds.models import DBParameterGroup
from moto.server import main

_execute_change_set = CloudFormationBackend.execute_change_set


def _execute_change_set_with_outputs(self, change_set_name, stack_name=None):
    change_set = self.change_sets.get(change_set_name) or next(
        (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name),
        None,
    )
    _execute_change_set(self, change_set_name, stack_name)
    if change_set is not None:
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        stack.parameters = _raw_parameters(stack.template_dict, change_set.parameters)
        stack.resource_map.input_parameters = dict(stack.parameters)
        for export in stack.exports:
            self.exports[export.name] = export


def _raw_parameters(template_dict, given):
    """Every parameter of the template as the string CloudFormation would hold."""
    raw = {
        name: str(slot["Default"])
        for name, slot in (template_dict.get("Parameters") or {}).items()
        if slot.get("Default") is not None
    }
    raw.update(given or {})
    return raw


Stack.stack_parameters = property(
    lambda self: _raw_parameters(getattr(self, "template_dict", {}) or {}, self.parameters)
)


_validate_different_update = CloudFormationResponse._validate_different_update


def _validate_different_update_except_change_sets(self, *args, **kwargs):
    if self._get_action() == "CreateChangeSet":
        return None
    return _validate_different_update(self, *args, **kwargs)


_clean_json = parsing.clean_json


def _clean_json_dropping_novalue(resource_json, resources_map):
    if isinstance(resource_json, list):
        cleaned = []
        for item in resource_json:
            value = _clean_json_dropping_novalue(item, resources_map)
            conditional = isinstance(item, dict) and (
                "Fn::If" in item or item.get("Ref") == "AWS::NoValue"
            )
            if value is None and conditional:
                continue
            cleaned.append(value)
        return cleaned
    return _clean_json(resource_json, resources_map)


# clean_json recurses through the module attribute, so nested lists get the fix too.
parsing.clean_json = _clean_json_dropping_novalue
def _target_group_attribute(self, name):
    values = {
        "TargetGroupFullName": self.arn.split(":")[-1],  # targetgroup/NAME/ID
        "TargetGroupName": self.name,
        "TargetGroupArn": self.arn,
        "LoadBalancerArns": self.load_balancer_arns,
    }
    if name not in values:
        raise AttributeError(name)
    return values[name]


FakeTargetGroup.has_cfn_attr = classmethod(
    lambda cls, attr: attr in ("TargetGroupFullName", "TargetGroupName", "TargetGroupArn", "LoadBalancerArns")
)
FakeTargetGroup.get_cfn_attribute = _target_group_attribute
DBParameterGroup.physical_resource_id = property(lambda self: self.name)
CloudFormationBackend.execute_change_set = _execute_change_set_with_outputs
CloudFormationResponse._validate_different_update = _validate_different_update_except_change_sets

if __name__ == "__main__":
    main()
