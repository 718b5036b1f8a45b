// Read an iCalendar file with ical.js (Thunderbird's parser) and print each VEVENT as JSON.
// ical.js has no tz database of its own: only the feed's VTIMEZONEs are registered.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
const zones = [];
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  const zone = new ICAL.Timezone(vtz);
  ICAL.TimezoneService.register(zone);
  zones.push(zone.tzid);
}

function instant(time) {
  if (time === null) return null;
  if (time.isDate) return time.toString(); // YYYY-MM-DD
  const zone = time.zone ? time.zone.tzid : null;
  if (zone !== "UTC" && !zones.includes(zone)) {
    throw new Error(`time without a registered zone: ${time.toString()} (${zone})`);
  }
  return time.convertToZone(ICAL.Timezone.utcTimezone).toString().slice(0, 19) + "Z";
}

const events = {};
for (const vevent of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  const hasEnd = vevent.hasProperty("dtend");
  events[event.uid] = {
    start: instant(event.startDate),
    end: hasEnd ? instant(event.endDate) : null,
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
    summary: event.summary,
  };
}
process.stdout.write(JSON.stringify({ zones, events }));
