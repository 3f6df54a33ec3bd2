#!/bin/sh
# Install the Debian packages callbar builds and tests with, when missing.
# As root it runs apt-get; otherwise it names what is missing and fails.
#   sh tools/deps.sh        what make check needs
#   sh tools/deps.sh deb    what make deb needs (the packaging tools) on top
set -eu
pkgs="cmake ninja-build gcc g++ make pkg-config python3 libcmocka-dev libphonenumber-dev libjansson-dev"
# the unlock registry: SQLite, libsodium, libpq; the sqlite3 and psql
# clients and a PostgreSQL 15 server for its tests
pkgs="$pkgs libsqlite3-dev sqlite3 libsodium-dev libpq-dev postgresql-15 postgresql-client-15"
# The daemon: HTTP, JSON, RCU, hashing and random tokens; curl and promtool
# (in Debian's prometheus package) drive its tests.
pkgs="$pkgs libmicrohttpd-dev liburcu-dev curl prometheus"
# callbar batch: compressed CDR exports (gzip, zstd; ISA-L's fast gzip
# inflate), and the tools that make its test files
pkgs="$pkgs zlib1g-dev libzstd-dev libisal-dev gzip zstd"
# HTTPS tests make their certificate with openssl
pkgs="$pkgs openssl"
# the web console's browser tests: Debian's headless Chromium, driven over
# W3C WebDriver by chromium-driver (nothing from npm: CI reaches only
# Debian's mirror), and a CJK font for the Chinese screenshots
pkgs="$pkgs chromium chromium-driver fonts-wqy-microhei"
# the manual pages (man/*.scd) and their test (groff is in every Debian)
pkgs="$pkgs scdoc"
# the SIP server's tests and benchmark: sipp, and Kamailio (tm, sl, rr,
# uac_redirect, mtree, htable, db_text are all in the main package)
pkgs="$pkgs sip-tester kamailio"
# the SMPP firewall's tests and benchmark: Kannel (bearerbox, smsbox) as an
# interconnect peer, Net::SMPP as the home SMSC; iconv and od are in libc-bin
# and coreutils
pkgs="$pkgs kannel libnet-smpp-perl"
# make deb: dpkg-buildpackage, debhelper, lintian (only when asked)
if [ "${1:-}" = deb ]; then
	pkgs="$pkgs dpkg-dev debhelper devscripts lintian fakeroot"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "callbar needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null ||
	{ apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
