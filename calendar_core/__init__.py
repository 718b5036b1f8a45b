"""The calendar: rules, schedules, projections and iCalendar output (pure, no I/O)."""
