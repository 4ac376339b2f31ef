"""The client library every cluster component uses: REST verbs, informers, leader
election and event recording, all through the API server."""

from openeks.kube.client.config import ClientConfig, load_kubeconfig
from openeks.kube.client.events import EventRecorder
from openeks.kube.client.factory import InformerFactory
from openeks.kube.client.informer import Informer, key_of, split_key
from openeks.kube.client.leaderelection import LeaderElector
from openeks.kube.client.rest import Client, resource_path

__all__ = [
    "Client",
    "ClientConfig",
    "EventRecorder",
    "Informer",
    "InformerFactory",
    "LeaderElector",
    "key_of",
    "load_kubeconfig",
    "resource_path",
    "split_key",
]
