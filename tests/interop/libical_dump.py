"""Read an iCalendar file with libical 3 (GObject introspection) and print each VEVENT as JSON.

Run with the system python (/usr/bin/python3), which has `gi`. Times with a TZID are
converted to UTC with the feed's own VTIMEZONE components, never libical's built-in zones.
"""

import json
import sys
from datetime import UTC, datetime

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402

Kind = ICalGLib.ComponentKind
Prop = ICalGLib.PropertyKind


def children(component, kind):
    """Every direct subcomponent of one kind."""
    child = component.get_first_component(kind)
    while child is not None:
        yield child
        child = component.get_next_component(kind)


def main(path):
    """Print {"zones": [...], "events": {uid: {...}}} for the file at `path`."""
    with open(path, encoding="utf-8") as handle:
        root = ICalGLib.Component.new_from_string(handle.read())
    if root is None or root.isa() != Kind.VCALENDAR_COMPONENT:
        raise SystemExit("libical could not parse the file as a VCALENDAR")
    zones = {}
    for vtz in children(root, Kind.VTIMEZONE_COMPONENT):
        zone = ICalGLib.Timezone.new()
        if not zone.set_component(vtz.clone()):
            raise SystemExit("libical rejected a VTIMEZONE")
        zones[zone.get_tzid()] = zone
    utc = ICalGLib.Timezone.get_utc_timezone()

    def instant(component, kind):
        prop = component.get_first_property(kind)
        if prop is None:
            return None
        value = prop.get_dtstart() if kind == Prop.DTSTART_PROPERTY else prop.get_dtend()
        if value.is_date():
            return f"{value.get_year():04d}-{value.get_month():02d}-{value.get_day():02d}"
        param = prop.get_first_parameter(ICalGLib.ParameterKind.TZID_PARAMETER)
        if param is not None:
            zone = zones[param.get_tzid()]
        elif value.is_utc():
            zone = utc
        else:
            raise SystemExit("floating time in the feed")
        seconds = value.as_timet_with_zone(zone)
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    events = {}
    for vevent in children(root, Kind.VEVENT_COMPONENT):
        status = vevent.get_first_property(Prop.STATUS_PROPERTY)
        sequence = vevent.get_first_property(Prop.SEQUENCE_PROPERTY)
        events[vevent.get_uid()] = {
            "start": instant(vevent, Prop.DTSTART_PROPERTY),
            "end": instant(vevent, Prop.DTEND_PROPERTY),
            "status": status.get_value_as_string() if status is not None else None,
            "sequence": sequence.get_sequence() if sequence is not None else None,
            "summary": vevent.get_summary(),
        }
    json.dump({"zones": sorted(zones), "events": events}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
