#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser test, Noto Sans CJK so that it
# renders Korean and Japanese names, libical (GObject introspection) as an independent
# iCalendar parser, PostgreSQL 15 for the store tests.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc' >/dev/null || missing+=(fonts-noto-cjk)
[ -e /usr/lib/x86_64-linux-gnu/girepository-1.0/ICalGLib-3.0.typelib ] \
  || [ -n "$(find /usr/lib -name 'ICalGLib-3.0.typelib' 2>/dev/null | head -1)" ] \
  || missing+=(gir1.2-ical-3.0)
/usr/bin/python3 -c 'import gi' 2>/dev/null || missing+=(python3-gi)
command -v node >/dev/null || missing+=(nodejs)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null \
  || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
