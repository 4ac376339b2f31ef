"""PrioritySort: higher `spec.priority` first, then older pods first."""

from __future__ import annotations

from openeks.kube.scheduler.framework.interface import Plugin
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins import names


class PrioritySort(Plugin):
    NAME = names.PRIORITY_SORT

    @staticmethod
    def sort_key(pod: PodInfo, seq: int) -> tuple[int, str, int]:
        return (-pod.priority, pod.created, seq)
