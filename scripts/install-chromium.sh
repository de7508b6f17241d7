#!/usr/bin/env sh
# Installs Debian's Chromium for the browser tests when it is missing.
# Playwright never downloads a browser here: the tests drive /usr/bin/chromium.
set -eu
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
else
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
