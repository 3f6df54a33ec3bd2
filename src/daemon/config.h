/*
 * callbar serve: the daemon's configuration.
 *
 * The file format is ours and small enough to parse by hand (docs/config.md
 * is its reference): '[section]' lines, 'key = value' lines, '#' comments
 * and blank lines.  A value runs to the end of the line with the spaces
 * around it dropped; it may be written in double quotes to keep spaces or a
 * '#'.  Every key is in one table (config.c, keys[]); a key or section not
 * in it is an error naming file:line, as is a value out of its bounds.
 *
 * Ownership: struct daemon_config is a plain value with fixed-size fields;
 * cbar_config_init() fills the defaults, cbar_config_load() and cbar_config_set() overwrite
 * fields, and nothing needs releasing.  A load that fails may have set the
 * keys before the bad line; the caller stops then.
 */
#ifndef CALLBAR_DAEMON_CONFIG_H
#define CALLBAR_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "callbar/error.h"
#include "log.h"

enum decide_auth { DECIDE_AUTH_TOKEN = 0, DECIDE_AUTH_NONE = 1 };

#define CONFIG_PATH_MAX 1024
#define CONFIG_ADDR_MAX 64

/* A repeatable key: each line's value, in order. */
#define CONFIG_SPECS_MAX 16
#define CONFIG_SPEC_LEN 512
struct config_specs {
	unsigned n;
	char v[CONFIG_SPECS_MAX][CONFIG_SPEC_LEN];
};

struct daemon_config {
	char http_listen[CONFIG_ADDR_MAX]; /* HOST:PORT */
	unsigned http_threads;
	unsigned body_max;       /* bytes of a request body */
	unsigned batch_max;      /* events in one batch */
	unsigned conn_timeout;   /* seconds an idle connection is kept */
	unsigned header_timeout; /* seconds to send a request's header; 0: no limit */
	unsigned per_source;     /* HTTP connections from one address; 0: no limit */
	unsigned drain_timeout;  /* seconds SIGTERM waits for requests */
	unsigned decide_auth;    /* enum decide_auth */
	bool metrics_auth;       /* /metrics needs a token */
	char tls_cert[CONFIG_PATH_MAX]; /* PEM certificate (chain); empty: plain HTTP */
	char tls_key[CONFIG_PATH_MAX];  /* its PEM private key */
	bool console;              /* the web console at /console/ (docs/console.md) */
	unsigned console_idle;     /* seconds a console session may stay unused */
	unsigned console_life;     /* seconds a console session lasts at most */
	char rules_file[CONFIG_PATH_MAX];
	char registry_url[CONFIG_PATH_MAX];
	char registry_snapshot[CONFIG_PATH_MAX]; /* the unlock snapshot file; empty: none */
	char registry_read_url[CONFIG_PATH_MAX]; /* a standby to load the unlock set from; "": url */
	char sip_listen[CONFIG_ADDR_MAX]; /* empty: no SIP */
	char sip_listen_in[CONFIG_ADDR_MAX]; /* empty: no listener for direction in */
	unsigned sip_block;      /* 0: 403, 1: 603 */
	unsigned sip_fail;       /* 0: 302 (continue), 1: 500 */
	char sip_ingress[CONFIG_PATH_MAX]; /* "CIDR=NAME,CIDR=NAME" */
	unsigned sip_coalesce_us; /* 0: answer at once; N: gather UDP for N us */
	bool sip_ack_filter;     /* drop UDP ACKs in the kernel (default true) */
	unsigned sip_tcp_idle;   /* seconds before an idle SIP TCP connection is closed */
	unsigned sip_tcp_per_source; /* SIP TCP connections one source may hold */
	struct config_specs sip_listeners; /* sip.listener lines (cbar_sip_listener_spec) */
	char sip_annc_uri[CONFIG_PATH_MAX]; /* block=annc's RFC 4240 URI template; "": none */
	char keywords_file[CONFIG_PATH_MAX]; /* keywords.file; "": the built-in table */
	char tokens_file[CONFIG_PATH_MAX];
	char country[8];         /* context of numbers: ISO code or calling code */
	/* The operator's numbering (numbering.*): "" keeps the built-in table. */
	char num_segments[CONFIG_PATH_MAX], num_carriers[CONFIG_PATH_MAX];
	char num_ported[CONFIG_PATH_MAX];
	unsigned log_level;      /* enum log_level */
	bool decision_log;       /* log each decision with the peer number */
	char decision_file[CONFIG_PATH_MAX]; /* PATH: PATH.YYYY-MM-DD a day; "": main log */
	unsigned decision_days;  /* day files kept */
	char decision_group[CONFIG_PATH_MAX]; /* "": files 0600; a group: 0640 and that group */
	/* [smpp]: the SMPP firewall (docs/smpp.md); smpp_listen "": off */
	char smpp_listen[CONFIG_ADDR_MAX];
	char smpp_peers[CONFIG_PATH_MAX];
	char smpp_upstream[CONFIG_ADDR_MAX]; /* the home SMSC; "": none */
	char smpp_up_system_id[16], smpp_up_password[9], smpp_up_system_type[13];
	unsigned smpp_up_binds, smpp_up_window, smpp_up_timeout;
	unsigned smpp_window, smpp_pdu_max, smpp_enquire, smpp_max_conns;
	char smpp_block_status[16]; /* 0x66 or decimal */
	unsigned smpp_fail;          /* 0: reject, 1: relay */
	unsigned smpp_receipt_hold, smpp_receipt_hold_max;
	char smpp_notify_from[21];   /* block notices' sender; "": none */
	unsigned smpp_notify_period, smpp_notify_slots;
	unsigned smpp_concat_wait; /* seconds a keyword text's parts wait for the rest */
	/* limits.*: the counting state of `limit` statements (docs/limits.md) */
	unsigned limits_max_keys;  /* keys tracked per limit */
	unsigned limits_tolerance; /* seconds an event may be late and still count */
};

/* url for logs and messages: a password in it ("postgresql://u:PW@h/db",
 * "...?password=PW") written as "***".  Returns out. */
const char *cbar_config_url_redact(const char *url, char *out, size_t cap);

/* The defaults: loopback, the example rule file, the embedded registry. */
void cbar_config_init(struct daemon_config *c);

/* Read a configuration file over *c.  d->file is set to path. */
enum cbar_err cbar_config_load(struct daemon_config *c, const char *path, struct cbar_diag *d);

/* The same over len bytes in memory (cbar_config_load's parser; fuzzed). */
enum cbar_err cbar_config_parse(struct daemon_config *c, const char *buf, size_t len,
                           struct cbar_diag *d);

/*
 * Set one key ("http.listen") to a value, as a file line would; the flags
 * of 'callbar serve' use it so that a flag and a file line are checked
 * alike.
 */
enum cbar_err cbar_config_set(struct daemon_config *c, const char *key, const char *value,
                         struct cbar_diag *d);

/* Write the effective configuration in the file format (--check). */
void cbar_config_write(const struct daemon_config *c, FILE *f);

#endif
