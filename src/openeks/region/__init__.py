"""The region: the cloud substrate EKS clusters run on, on one machine.

- `zones`: a `Region` with availability zones, each with its own loopback address
  block, and the persistent per-owner `AddressAllocator` (IPAM).
- `process`, `supervisor`: `ProcessSpec`s run as supervised child processes (readiness
  probes, restart with back-off, ordered shutdown), zone faults (`zone_down`/`zone_up`)
  and the state file that lets a restarted region bring everything back.
- `faults`: the HTTP endpoints (and client) for fault injection from other processes.
- `loadbalancer`: `TcpLoadBalancer`, a layer-4 balancer with health checks: each
  cluster's API endpoint.
- `etcdcluster`: a cluster's etcd, one member per zone (or one for dev clusters).
- `probes`, `statefile`: shared helpers.

Nothing here knows about EKS or Kubernetes objects: the region controllers (above)
decide what should run; this package runs it and makes it observable.
"""

from openeks.region.etcdcluster import (
    EtcdCluster,
    EtcdMember,
    EtcdTuning,
    plan_etcd_cluster,
    plan_single_member,
    start_etcd_cluster,
    stop_etcd_cluster,
    wait_for_quorum,
)
from openeks.region.loadbalancer import HealthCheck, LoadBalancerStats, TcpLoadBalancer
from openeks.region.probes import HttpProbe, Probe, TcpProbe
from openeks.region.process import ProcessSpec, ProcessState, ProcessStatus, RestartPolicy
from openeks.region.supervisor import (
    Supervisor,
    SupervisorBusyError,
    UnknownProcessError,
    ZoneStatus,
)
from openeks.region.zones import (
    AddressAllocator,
    Allocation,
    AvailabilityZone,
    Endpoint,
    Region,
    UnknownZoneError,
)

__all__ = [
    "AddressAllocator",
    "Allocation",
    "AvailabilityZone",
    "Endpoint",
    "EtcdCluster",
    "EtcdMember",
    "EtcdTuning",
    "HealthCheck",
    "HttpProbe",
    "LoadBalancerStats",
    "Probe",
    "ProcessSpec",
    "ProcessState",
    "ProcessStatus",
    "Region",
    "RestartPolicy",
    "Supervisor",
    "SupervisorBusyError",
    "TcpLoadBalancer",
    "TcpProbe",
    "UnknownProcessError",
    "UnknownZoneError",
    "ZoneStatus",
    "plan_etcd_cluster",
    "plan_single_member",
    "start_etcd_cluster",
    "stop_etcd_cluster",
    "wait_for_quorum",
]
