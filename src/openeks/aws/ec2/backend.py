"""EC2 on the shared endpoint: the VPC, subnet, security group, launch template,
network interface and instance calls EKS users make (ec2 protocol).

One method per operation, each a line or two handing over to the module that owns the
resource (`vpcs`, `securitygroups`, `templates`, `instances`), which in turn use the
region's documents and rules (`openeks.region.vpc`). The region raises `Ec2Error`s in
EC2's terms; `handle` renders them as the wire error, once. `DryRun` answers EC2's
DryRunOperation for every implemented operation.
"""

from __future__ import annotations

from typing import Any

from botocore import xform_name

from openeks.aws.ec2 import instances, securitygroups, templates, vpcs
from openeks.aws.errors import AwsError
from openeks.aws.service import MethodDispatch, RequestContext, Result, load_model
from openeks.region.state import RegionState
from openeks.region.vpc import networks, tags
from openeks.region.vpc.documents import tag_map
from openeks.region.vpc.errors import Ec2Error
from openeks.region.zones import Region

Doc = dict[str, Any]


class DryRunOperation(AwsError):
    STATUS = 412


class Ec2Service(MethodDispatch):
    model = load_model("ec2")

    def __init__(self, state: RegionState, region: Region) -> None:
        self.state = state
        self.region = region

    async def handle(
        self, operation: str, params: dict[str, Any], context: RequestContext
    ) -> Result:
        try:
            if params.get("DryRun"):
                await self._dry_run(operation)
            return await super().handle(operation, params, context)
        except Ec2Error as failure:
            raise AwsError(failure.message, code=failure.code, status=400) from failure

    async def _dry_run(self, operation: str) -> None:
        if getattr(self, xform_name(operation), None) is not None:
            raise DryRunOperation("Request would have succeeded, but DryRun flag is set.")

    # -- VPCs, subnets, zones ------------------------------------------------------------
    async def describe_vpcs(self, params: Doc, context: RequestContext) -> Doc:
        return await vpcs.describe_vpcs(self.state, params)

    async def describe_subnets(self, params: Doc, context: RequestContext) -> Doc:
        return await vpcs.describe_subnets(self.state, params)

    async def describe_availability_zones(self, params: Doc, context: RequestContext) -> Doc:
        return vpcs.describe_availability_zones(self.region, params)

    async def create_vpc(self, params: Doc, context: RequestContext) -> Doc:
        return await vpcs.create_vpc(self.state, params, context)

    async def delete_vpc(self, params: Doc, context: RequestContext) -> None:
        await networks.delete_vpc(self.state, params["VpcId"])

    async def create_subnet(self, params: Doc, context: RequestContext) -> Doc:
        return await vpcs.create_subnet(self.state, self.region, params, context)

    async def delete_subnet(self, params: Doc, context: RequestContext) -> None:
        await networks.delete_subnet(self.state, params["SubnetId"])

    # -- security groups -----------------------------------------------------------------
    async def create_security_group(self, params: Doc, context: RequestContext) -> Doc:
        return await securitygroups.create_security_group(self.state, params, context)

    async def describe_security_groups(self, params: Doc, context: RequestContext) -> Doc:
        return await securitygroups.describe_security_groups(self.state, params)

    async def delete_security_group(self, params: Doc, context: RequestContext) -> Doc:
        return await securitygroups.delete_security_group(self.state, params)

    async def authorize_security_group_ingress(self, params: Doc, context: RequestContext) -> Doc:
        return await securitygroups.authorize_security_group_ingress(self.state, params, context)

    # -- launch templates ----------------------------------------------------------------
    async def create_launch_template(self, params: Doc, context: RequestContext) -> Doc:
        return await templates.create_launch_template(self.state, params, context)

    async def describe_launch_templates(self, params: Doc, context: RequestContext) -> Doc:
        return await templates.describe_launch_templates(self.state, params)

    async def delete_launch_template(self, params: Doc, context: RequestContext) -> Doc:
        return await templates.delete_launch_template(self.state, params)

    async def create_launch_template_version(self, params: Doc, context: RequestContext) -> Doc:
        return await templates.create_launch_template_version(self.state, params, context)

    async def describe_launch_template_versions(self, params: Doc, context: RequestContext) -> Doc:
        return await templates.describe_launch_template_versions(self.state, params)

    # -- instances and interfaces --------------------------------------------------------
    async def run_instances(self, params: Doc, context: RequestContext) -> Doc:
        return await instances.run_instances(self.state, params, context)

    async def describe_instances(self, params: Doc, context: RequestContext) -> Doc:
        return await instances.describe_instances(self.state, params)

    async def terminate_instances(self, params: Doc, context: RequestContext) -> Doc:
        return await instances.terminate_instances(self.state, params)

    async def describe_network_interfaces(self, params: Doc, context: RequestContext) -> Doc:
        return await instances.describe_network_interfaces(self.state, params)

    # -- tags ----------------------------------------------------------------------------
    async def create_tags(self, params: Doc, context: RequestContext) -> None:
        await tags.create_tags(self.state, list(params["Resources"]), tag_map(params["Tags"]))

    async def delete_tags(self, params: Doc, context: RequestContext) -> None:
        await tags.delete_tags(self.state, list(params["Resources"]), params.get("Tags"))
