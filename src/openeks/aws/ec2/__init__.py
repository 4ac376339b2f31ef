"""EC2: the VPC and availability-zone calls EKS users make (ec2 protocol)."""

from openeks.aws.ec2.backend import Ec2Service

__all__ = ["Ec2Service"]
