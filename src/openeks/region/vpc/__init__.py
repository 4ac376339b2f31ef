"""The region's EC2 networking and compute documents: VPCs, subnets and their address
management, security groups, launch templates, network interfaces and instances.

This is the region layer's half of EC2: the rules and the documents, usable by the
EC2 API backend (`openeks.aws.ec2`) and by the region's controllers alike. Failures are
`errors.Ec2Error(code, message)` in EC2's terms (the API edge renders them as they
are); `errors.SubnetFullError` is the one controllers catch.

- `ipam`: subnet addresses and aligned blocks (`allocate_ip`, `allocate_ips`,
  `allocate_block`, `release`), AWS's five reserved addresses, CAS-safe.
- `networks`: `create_vpc`, `delete_vpc`, `create_subnet`, `delete_subnet`.
- `securitygroups`: `create_security_group`, `ensure_default_group`, `find_group`,
  `delete_security_group`, `authorize_ingress`.
- `templates`: launch templates and their versions.
- `interfaces`: `create_network_interface`, `delete_network_interfaces`.
- `instances`: `launch_instances`, `terminate_instances`, `mark_running`,
  `mark_failed`, `finish_termination`.
- `tags`: `create_tags`, `delete_tags` on any of the above.
"""

from openeks.region.vpc.errors import Ec2Error, SubnetFullError

__all__ = ["Ec2Error", "SubnetFullError"]
