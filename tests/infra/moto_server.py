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

7. Stacks that cannot be updated: AWS refuses a change set for a stack in ROLLBACK_COMPLETE
   (a failed first create), UPDATE_ROLLBACK_FAILED or any *_IN_PROGRESS state; moto accepts
   it. The patch refuses it with AWS's message.
8. `DescribeOrderableDBInstanceOptions` answers nothing for PostgreSQL in moto. The patch
   answers the requested instance class in every zone of the region but the first, like a
   region where one zone lacks the class (db.m5.large: only the zones d, e, f), so the zone
   choice of deploy.sh is exercised.
9. Service-linked role names: moto derives them from the service name ("AWSServiceRoleForecs");
   AWS has fixed names. The patch gives the two roles deploy.sh creates their AWS names.
10. `AWS::ECS::Service` DesiredCount: CloudFormation converts the value to a number; moto passes
   the string of a String parameter on, and its service model then fails on arithmetic. The
   patch converts it.

11. Templates from S3: moto reads the bucket of a TemplateURL from its host name unless the
   host is "localhost"; the AWS CLI builds a path-style URL on the endpoint it was given
   (http://127.0.0.1:PORT/BUCKET/KEY). The patch reads such URLs path-style, as AWS reads its own.

12. CloudFront: moto's CloudFormation has no AWS::CloudFront::* resources and skips them, so
   the Url and PUBLIC_URL built from the distribution's DomainName break. The patch gives the
   distribution and the cache policy stand-ins that answer Ref and DomainName as AWS does
   (an ID, ID.cloudfront.net); what the distribution is configured with is checked by the
   template rules in test_templates.py, and only a real account can show it serving.

13. `!Condition X` inside `!And`, `!Or`, `!Not`: moto's YAML loader turns the short form into
   {"Fn::Condition": X}, which its condition evaluation does not know (only {"Condition": X}),
   so every such condition is false. The patch reads it as CloudFormation does.

14. `AWS::EC2::SecurityGroupIngress` with SourcePrefixListId (the load balancer admitting
   CloudFront's prefix list) fails an assertion in moto, which knows only addresses and
   groups as sources. The patch authorizes the prefix list through moto's EC2 API.

And one hook for the tests, which no AWS call can bring about on purpose: a stack created with
the tag `moto-test-status` = `STATUS` reports that status from then on (a stack left in
ROLLBACK_COMPLETE or UPDATE_ROLLBACK_FAILED by an earlier failure), and `STATUS>FINAL@SECONDS`
reports STATUS for SECONDS and then FINAL (an operation still in progress); with
`STATUS>FINAL@manual` it changes to FINAL when the test calls SetStackPolicy on the stack.

A second hook stands in for a first create of the service stack that fails: when a change set
runs with the parameter ImageTag starting with "moto-fail", the stack reports
CREATE_IN_PROGRESS with a failed Service for a few seconds, during which its cluster has a task
stopped for a reason (as ECS shows when tasks crash), and then ROLLBACK_COMPLETE, with the
service and the cluster deleted as a rollback deletes them.

Usage: python moto_server.py -H 127.0.0.1 -p PORT   (the same arguments as moto_server)
"""

import random
import string
import time

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.common_models import CloudFormationModel
from moto.ec2.models.security_groups import SecurityGroupIngress
from moto.ecs.models import Service as EcsService
from moto.elbv2.models import FakeTargetGroup
from moto.iam.exceptions import InvalidInput
from moto.iam.models import IAMBackend
from moto.rds.models import DBParameterGroup
from moto.rds.responses import RDSResponse
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
        if str(stack.parameters.get("ImageTag", "")).startswith("moto-fail"):
            _fail_first_create(self, stack)


# Long enough for several looks by deploy.sh on a slow machine; on AWS the window between the
# failed service and the deleted cluster is minutes (the service drains first).
FAILED_CREATE_SECONDS = 30
STOPPED_REASON = "CannotStartContainerError: exec format error (the image is for another architecture)"


def _fail_first_create(backend, stack):
    """The stand-in for a failing first create (see the module docstring)."""
    from moto.cloudformation.models import Event
    from moto.ecs.models import ecs_backends

    def event(logical_id, physical_id, kind, status, reason=None):
        stack.events.append(Event(stack.stack_id, stack.name, logical_id, physical_id, kind, status, reason, None))

    if stack.events and stack.events[-1].resource_status == "CREATE_COMPLETE":
        stack.events.pop()
    cluster = stack.resource_map["Cluster"]
    service = stack.resource_map["Service"]
    ecs = ecs_backends[stack.account_id][stack.region_name]
    definition = ecs.register_task_definition(
        family=f"{stack.name}-standin", container_definitions=[{"name": "app", "image": "todo", "memory": 512}])
    (task,) = ecs.run_task(cluster.name, definition.arn, 1, None, f"ecs-svc/{service.name}", None, "FARGATE")
    ecs.stop_task(cluster.name, task.task_arn, STOPPED_REASON)
    event("Service", service.physical_resource_id, "AWS::ECS::Service", "CREATE_FAILED",
          "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\"")
    event(stack.name, stack.stack_id, "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS",
          "The following resource(s) failed to create: [Service]. Rollback requested by user.")

    def rolled_back():
        for name in list(ecs.services):
            if name.startswith(f"{cluster.name}:"):
                ecs.delete_service(cluster.name, ecs.services[name].name, force=True)
        # moto keeps a deleted cluster (INACTIVE) with its tasks; AWS forgets them.
        ecs.clusters.pop(cluster.name, None)
        ecs.tasks.pop(cluster.name, None)
        event(stack.name, stack.stack_id, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")

    stack.__dict__["_test_status"] = f"CREATE_IN_PROGRESS>ROLLBACK_COMPLETE@{FAILED_CREATE_SECONDS}"
    stack.__dict__["_test_status_since"] = time.monotonic()
    stack.__dict__["_test_on_final"] = rolled_back


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

def _status_get(self):
    forced = self.__dict__.get("_test_status")
    if forced:
        status, _, rest = forced.partition(">")
        if rest:
            final, _, seconds = rest.partition("@")
            if seconds != "manual" and time.monotonic() >= self.__dict__["_test_status_since"] + float(seconds):
                self.__dict__["_test_status"] = None
                self.__dict__["_status"] = final
                on_final = self.__dict__.pop("_test_on_final", None)
                if on_final:
                    on_final()
                return final
        return status
    return self.__dict__.get("_status")


def _status_set(self, value):
    self.__dict__["_status"] = value


Stack.status = property(_status_get, _status_set)
_create_stack = CloudFormationBackend.create_stack


def _create_stack_with_test_status(self, *args, **kwargs):
    stack = _create_stack(self, *args, **kwargs)
    forced = (stack.tags or {}).get("moto-test-status")
    if forced:
        stack.__dict__["_test_status"] = forced
        stack.__dict__["_test_status_since"] = time.monotonic()
    return stack


CloudFormationBackend.create_stack = _create_stack_with_test_status
_describe_stack_events = CloudFormationBackend.describe_stack_events


def _describe_stack_events_after_status(self, stack_name):
    # A status that changes with time changes when anyone looks, events included.
    for stack in list(self.stacks.values()):
        if stack_name in (stack.name, stack.stack_id):
            stack.status  # noqa: B018
    return _describe_stack_events(self, stack_name)


CloudFormationBackend.describe_stack_events = _describe_stack_events_after_status
_set_stack_policy = CloudFormationBackend.set_stack_policy


def _set_stack_policy_ending_test_status(self, stack_name, policy_body):
    stack = self.get_stack(stack_name)
    forced = stack.__dict__.get("_test_status") or ""
    if forced.endswith("@manual"):
        stack.__dict__["_test_status"] = None
        stack.__dict__["_status"] = forced.partition(">")[2].partition("@")[0]
    return _set_stack_policy(self, stack_name, policy_body)


CloudFormationBackend.set_stack_policy = _set_stack_policy_ending_test_status
_create_change_set = CloudFormationBackend.create_change_set


def _create_change_set_refusing_stuck_stacks(self, stack_name, change_set_name, template, parameters,
                                             description, change_set_type, *args, **kwargs):
    if change_set_type == "UPDATE":
        for stack in self.stacks.values():
            if stack.name == stack_name and (
                stack.status in ("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED")
                or stack.status.endswith("_IN_PROGRESS")
            ):
                raise ValidationError(
                    stack_name,
                    message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
                )
    return _create_change_set(self, stack_name, change_set_name, template, parameters, description,
                              change_set_type, *args, **kwargs)


CloudFormationBackend.create_change_set = _create_change_set_refusing_stuck_stacks
_orderable = RDSResponse.describe_orderable_db_instance_options


def _orderable_postgres(self):
    if self.params.get("Engine") != "postgres":
        return _orderable(self)
    from moto.core.responses import ActionResult
    from moto.ec2.models import ec2_backends

    zones = ec2_backends[self.current_account][self.region].describe_availability_zones()
    names = sorted(z.name for z in zones)[1:]
    # A class that only three zones offer, one of them (us-east-1e, use1-az3) without Fargate.
    if self.params.get("DBInstanceClass") == "db.m5.large":
        names = [n for n in names if n[-1] in "def"]
    option = {
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "DBInstanceClass": self.params.get("DBInstanceClass", "db.t4g.micro"),
        "StorageType": "gp3",
        "AvailabilityZones": [{"Name": name} for name in names],
    }
    return ActionResult({"OrderableDBInstanceOptions": [option]})


RDSResponse.describe_orderable_db_instance_options = _orderable_postgres
SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
}
_create_service_linked_role = IAMBackend.create_service_linked_role


def _create_service_linked_role_named(self, service_name, description, suffix):
    name = SERVICE_LINKED_ROLE_NAMES.get(service_name)
    if name and any(role.name == name for role in self.roles.values()):
        raise InvalidInput(f"Service role name {name} has been taken in this account, please try a different suffix.")
    role = _create_service_linked_role(self, service_name, description, suffix)
    if name:
        role.name = name
    return role


IAMBackend.create_service_linked_role = _create_service_linked_role_named


def _with_numeric_desired_count(original):
    def wrapped(cls, *args, **kwargs):
        cloudformation_json = kwargs.get("cloudformation_json")
        if cloudformation_json is None:
            cloudformation_json = next(a for a in args if isinstance(a, dict) and "Properties" in a)
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("DesiredCount"), str):
            properties["DesiredCount"] = int(properties["DesiredCount"])
        return original.__func__(cls, *args, **kwargs)
    return classmethod(wrapped)


EcsService.create_from_cloudformation_json = _with_numeric_desired_count(EcsService.create_from_cloudformation_json)
EcsService.update_from_cloudformation_json = _with_numeric_desired_count(EcsService.update_from_cloudformation_json)

class _CloudFrontStandIn:
    # moto finds CloudFormation models among the direct subclasses of CloudFormationModel, and
    # files them by the service in their module name.
    def __init__(self, properties):
        self.id = "E" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(13))
        self.properties = properties

    @property
    def physical_resource_id(self):
        return self.id

    @staticmethod
    def cloudformation_name_type():
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Id", "DomainName")

    def get_cfn_attribute(self, attr):
        if attr == "DomainName":
            return f"{self.id.lower()}.cloudfront.net"
        if attr == "Id":
            return self.id
        raise AttributeError(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return cls(cloudformation_json.get("Properties", {}))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        original_resource.properties = cloudformation_json.get("Properties", {})
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass


class _DistributionStandIn(_CloudFrontStandIn, CloudFormationModel):
    __module__ = "moto.cloudfront.models"

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::Distribution"


class _CachePolicyStandIn(_CloudFrontStandIn, CloudFormationModel):
    __module__ = "moto.cloudfront.models"

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::CachePolicy"


def _condition_references(node):
    if isinstance(node, dict):
        if set(node) == {"Fn::Condition"}:
            return {"Condition": node["Fn::Condition"]}
        return {k: _condition_references(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_condition_references(v) for v in node]
    return node


_parse_condition = parsing.parse_condition


def _parse_condition_with_references(condition, resources_map, condition_map):
    return _parse_condition(_condition_references(condition), resources_map, condition_map)


parsing.parse_condition = _parse_condition_with_references


_create_ingress = SecurityGroupIngress.create_from_cloudformation_json.__func__


def _create_ingress_from_prefix_list(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    if "SourcePrefixListId" not in properties:
        return _create_ingress(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region_name]
    (group,) = backend.describe_security_groups(group_ids=[properties["GroupId"]])
    backend.authorize_security_group_ingress(
        group_name_or_id=group.id, ip_protocol=properties["IpProtocol"], from_port=properties["FromPort"],
        to_port=properties["ToPort"], ip_ranges=[],
        prefix_list_ids=[{"PrefixListId": properties["SourcePrefixListId"],
                          "Description": properties.get("Description", "")}],
    )
    return cls(group, properties)


SecurityGroupIngress.create_from_cloudformation_json = classmethod(_create_ingress_from_prefix_list)


def _stack_from_s3_url(self, template_url):
    from urllib.parse import urlparse

    from moto.s3.models import s3_backends

    parts = urlparse(template_url)
    if parts.hostname in ("127.0.0.1", "localhost"):
        bucket, key = parts.path.lstrip("/").split("/", 1)
        return s3_backends[self.current_account][self.partition].get_object(bucket, key).value.decode("utf-8")
    return _get_stack_from_s3_url(self, template_url)


_get_stack_from_s3_url = CloudFormationResponse._get_stack_from_s3_url
CloudFormationResponse._get_stack_from_s3_url = _stack_from_s3_url

if __name__ == "__main__":
    main()
