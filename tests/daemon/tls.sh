#!/bin/sh
# callbar serve over HTTPS (http.tls_cert, http.tls_key): a certificate made
# here for 127.0.0.1, curl trusting it gets answers, plain HTTP on the same
# port gets none, and every wrong setting stops the start with a message.
. "$2/lib.sh"
command -v openssl >/dev/null || { echo "FAIL: openssl not installed (tools/deps.sh)"; exit 1; }
write_rules r.rules 2
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj "/CN=callbar test" -addext "subjectAltName=IP:127.0.0.1" >openssl.out 2>&1 ||
	{ echo "FAIL: openssl req"; cat openssl.out; exit 1; }
chmod 600 key.pem
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
cat >tls.conf <<CONF
[http]
tls_cert = cert.pem
tls_key = key.pem
[rules]
file = r.rules
[registry]
url = sqlite:$PWD/reg.db
[auth]
tokens = tok
CONF
start_daemon --config tls.conf
addr=${U#https://}
[ "$U" = "https://$addr" ] || { echo "FAIL: not https: $U"; fail=1; }
call healthz 200 --cacert cert.pem "$U/healthz"
has healthz body.json '"status":"ok"'
call decide 200 --cacert cert.pem -H "Authorization: Bearer $A" -X POST "$U/v1/decide" \
	-d '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}'
has decide body.json '"verdict":'
# TLS 1.3 and 1.2 both answer (older versions are off in the server's
# priorities; this curl's OpenSSL would not offer them anyway)
call tls13 200 --cacert cert.pem --tlsv1.3 "$U/healthz"
call tls12 200 --cacert cert.pem --tlsv1.2 --tls-max 1.2 "$U/healthz"
# the certificate is what curl checked: without trusting it, no answer
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")
[ "$code" = 000 ] || { echo "FAIL untrusted: HTTP $code, want no answer"; fail=1; }
# plain HTTP to the TLS port: no HTTP answer
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$addr/healthz")
[ "$code" = 000 ] || [ "$code" = 400 ] || { echo "FAIL plain http: HTTP $code"; fail=1; }
hasnt key_not_logged serve.out 'PRIVATE KEY'
hasnt key_not_logged serve.err 'PRIVATE KEY'
stop_daemon

# wrong settings: each refused at start, exit 2, with a message naming it
bad() { # NAME WANT_MESSAGE CONFIG_LINES...
	name=$1 want=$2
	shift 2
	printf '%s\n' "[rules]" "file = r.rules" "[registry]" "url = sqlite:$PWD/reg.db" \
		"[auth]" "tokens = tok" "[http]" "$@" >bad.conf
	"$CB" serve --config bad.conf --http 127.0.0.1:0 >bad.out 2>&1 &
	p=$!
	i=0
	while kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
	if kill -0 $p 2>/dev/null; then
		kill -KILL $p; echo "FAIL $name: it started"; fail=1; return
	fi
	wait $p
	got=$?
	[ $got = 2 ] || { echo "FAIL $name: exit $got, want 2"; cat bad.out; fail=1; }
	has "$name" bad.out "$want"
}
bad cert_only 'http.tls_cert and http.tls_key go together' 'tls_cert = cert.pem'
bad no_such_cert 'http.tls_cert: nowhere.pem: cannot open' 'tls_cert = nowhere.pem' 'tls_key = key.pem'
printf 'not a certificate\n' >junk.pem
bad not_pem 'http.tls_key: junk.pem: not PEM' 'tls_cert = cert.pem' 'tls_key = junk.pem'
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.pem -out othercert.pem -days 2 \
	-subj "/CN=other" >/dev/null 2>&1
bad mismatch 'with TLS' 'tls_cert = cert.pem' 'tls_key = other.pem'
# a key others may read: started, with a warning
chmod 644 key.pem
start_daemon --config tls.conf
has key_mode serve.err 'http.tls_key: key.pem is readable by others'
stop_daemon
finish
