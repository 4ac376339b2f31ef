"""The event printer, shared by core/v1 and events.k8s.io/v1 Events.

Both APIs store one internal Event type, so upstream prints an events.k8s.io/v1 Event
after converting it to the core shape (`Convert_v1_Event_To_core_Event`): `regarding` is
the involved object, `note` the message, `deprecatedSource`/`deprecatedFirstTimestamp`/
`deprecatedLastTimestamp`/`deprecatedCount` the old fields. `as_core_event` does that
conversion for the fields the printer reads, and passes core-shaped events through.

LAST SEEN falls back from `lastTimestamp` to `firstTimestamp` to `eventTime`, and an
event series overrides it with the series' last observation (and its count); singleton
events from the new API, which carry no count, count as 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    column,
    integer,
    mapping,
    name_of,
    parse_time,
    present,
    text,
    translate_timestamp_since,
)
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.printer import Printer

COLUMNS = (
    column("Last Seen", "string", doc("Event.lastTimestamp")),
    column("Type", "string", doc("Event.type")),
    column("Reason", "string", doc("Event.reason")),
    column("Object", "string", doc("Event.involvedObject")),
    column("Subobject", "string", doc("ObjectReference.fieldPath"), priority=1),
    column("Source", "string", doc("Event.source"), priority=1),
    column("Message", "string", doc("Event.message")),
    column("First Seen", "string", doc("Event.firstTimestamp"), priority=1),
    column("Count", "string", doc("Event.count"), priority=1),
    column("Name", "string", doc("ObjectMeta.name"), format="name", priority=1),
)


def as_core_event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The core/v1 view of an events.k8s.io/v1 Event, for the fields printed.

    An event already in the core shape (`apiVersion: v1`, or `involvedObject` without
    `regarding`, as when both APIs share core storage) is returned unchanged.
    """
    if event.get("apiVersion") == "v1" or ("involvedObject" in event and "regarding" not in event):
        return event
    return {
        "metadata": event.get("metadata"),
        "eventTime": event.get("eventTime"),
        "series": event.get("series"),
        "reportingComponent": event.get("reportingController"),
        "reportingInstance": event.get("reportingInstance"),
        "reason": event.get("reason"),
        "type": event.get("type"),
        "involvedObject": event.get("regarding"),
        "source": event.get("deprecatedSource"),
        "message": event.get("note"),
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "count": event.get("deprecatedCount"),
    }


def _source(event: Mapping[str, Any]) -> str:
    """`formatEventSource`: component (or reporting controller), then host or instance."""
    source = mapping(event.get("source"))
    component = text(source.get("component")) or text(event.get("reportingComponent"))
    instance = text(source.get("host")) or text(event.get("reportingInstance"))
    return f"{component}, {instance}" if instance else component


def event_cells(event: Mapping[str, Any], now: datetime) -> list[Any]:
    """Upstream's `printEvent`, always wide."""
    first_seen_at = parse_time(event.get("firstTimestamp"))
    if first_seen_at is None:
        first_seen = translate_timestamp_since(event.get("eventTime"), now)
    else:
        first_seen = translate_timestamp_since(first_seen_at, now)
    last_seen_at = parse_time(event.get("lastTimestamp"))
    last_seen = first_seen if last_seen_at is None else translate_timestamp_since(last_seen_at, now)

    count = integer(event.get("count"))
    series = event.get("series")
    if present(series):
        last_seen = translate_timestamp_since(mapping(series).get("lastObservedTime"), now)
        count = integer(mapping(series).get("count"))
    elif count == 0:
        count = 1  # singleton events don't have a count set in the new API

    involved = mapping(event.get("involvedObject"))
    kind = text(involved.get("kind")).lower()
    target = f"{kind}/{text(involved.get('name'))}" if text(involved.get("name")) else kind
    return [
        last_seen,
        text(event.get("type")),
        text(event.get("reason")),
        target,
        text(involved.get("fieldPath")),
        _source(event),
        text(event.get("message")).strip(),
        first_seen,
        count,
        name_of(event),
    ]


EVENT = Printer(COLUMNS, event_cells)
EVENTS_V1 = Printer(COLUMNS, lambda event, now: event_cells(as_core_event(event), now))

PRINTERS = {("", "events"): EVENT, ("events.k8s.io", "events"): EVENTS_V1}
