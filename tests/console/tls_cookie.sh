#!/bin/sh
# The console over HTTPS: the session cookie is Secure there (and not over
# plain HTTP, where a browser would drop a Secure cookie), HttpOnly and
# SameSite=Strict on both; the security headers come over HTTPS too.
# usage: tls_cookie.sh CALLBAR tests/daemon
. "$2/lib.sh"
command -v openssl >/dev/null || { echo "FAIL: openssl not installed (tools/deps.sh)"; exit 1; }
write_rules r.rules 2
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj "/CN=callbar test" -addext "subjectAltName=IP:127.0.0.1" >openssl.out 2>&1 ||
	{ echo "FAIL: openssl req"; cat openssl.out; exit 1; }
chmod 600 key.pem
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
printf '[rules]\nfile = r.rules\n[auth]\ntokens = tok\n' >plain.conf
printf '[http]\ntls_cert = cert.pem\ntls_key = key.pem\n' | cat - plain.conf >tls.conf

start_daemon --config tls.conf
call signin_tls 200 --cacert cert.pem -H "Content-Type: application/json" \
	-d "{\"token\":\"$G\"}" "$U/console/api/session"
has cookie_tls hdr.txt 'Set-Cookie: cbar_session='
has secure_tls hdr.txt '; Secure'
has httponly_tls hdr.txt 'HttpOnly'
has samesite_tls hdr.txt 'SameSite=Strict'
hasnt token_not_echoed body.json "$G"
call page_tls 200 --cacert cert.pem "$U/console/"
has csp_tls hdr.txt "Content-Security-Policy: default-src 'none'; script-src 'self'"
has xfo_tls hdr.txt 'X-Frame-Options: DENY'
stop_daemon

start_daemon --config plain.conf
call signin_plain 200 -H "Content-Type: application/json" -d "{\"token\":\"$G\"}" \
	"$U/console/api/session"
has httponly_plain hdr.txt 'HttpOnly; SameSite=Strict'
hasnt secure_plain hdr.txt 'Secure'
# A sign-in without a JSON body's content type is refused (a form of
# another site cannot set it without the browser asking first).
call signin_form 400 -d "token=$G" "$U/console/api/session"
hasnt form_no_cookie hdr.txt 'Set-Cookie'
stop_daemon
exit $fail
