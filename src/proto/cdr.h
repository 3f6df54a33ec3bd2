/*
 * callbar: a CDR record's fields, as `callbar batch` reads them.
 *
 * CSV is callbar's own simple format (docs/rules.md): a header line
 * time,service,direction,subscriber,peer[,ingress], then one record a line,
 * fields never quoted and never holding a comma; so a line is split by hand
 * on ',' (a CSV library would spend its time on quoting rules we do not
 * have).  A header may also name those columns, and roaming, in any order
 * among others (a CDR export as it is): struct cbar_cdr_map says where each
 * is.  JSON lines are one object a line with the same keys, read with
 * jansson.
 *
 * This module only finds the fields: a line goes in, the slices of the
 * event's fields come out, in the order CBAR_CDR_TIME ... CBAR_CDR_ROAMING,
 * for the event module (proto/event.h) to read.
 *
 * Ownership: nothing is allocated on the CSV path; the slices point into
 * the caller's line, which must stay put while they are read.  The JSON
 * path's slices point into the parsed object (and into the caller's
 * struct cbar_cdr_json_text), which the caller frees with json_decref().
 *
 * Errors: each cut returns NULL, or a sentence saying why the line is not
 * a record (static text, or the caller's buffer); it never quotes the
 * input.
 */
#ifndef CALLBAR_PROTO_CDR_H
#define CALLBAR_PROTO_CDR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The fields of an event, in the order the slices come out. */
enum cbar_cdr_field {
	CBAR_CDR_TIME,
	CBAR_CDR_SERVICE,
	CBAR_CDR_DIRECTION,
	CBAR_CDR_SUBSCRIBER,
	CBAR_CDR_PEER,
	CBAR_CDR_INGRESS,
	CBAR_CDR_ROAMING,
	CBAR_CDR_CARRIER, /* the subscriber's, when the switch knows it (else the numbering) */
	CBAR_CDR_REGION,
	CBAR_CDR_FIELDS
};

/* A header naming more columns than this is read as far as this. */
#define CBAR_CDR_COLUMNS_MAX 128

/* Where the fields are, by a CSV header's names: the column of each field
 * (-1: no such column). */
struct cbar_cdr_map {
	int col[CBAR_CDR_FIELDS];
	int ncols;   /* columns in the header */
	bool custom; /* not the fixed time,service,direction,subscriber,peer[,ingress] */
};

/* Whether the line s (without its line end) is a CSV header naming at
 * least time, service, direction, subscriber and peer; *m says where each
 * is (and is cleared when it is not a header). */
bool cbar_cdr_header(const char *s, size_t len, struct cbar_cdr_map *m);

/* A record of the fixed layout, time,service,direction,subscriber,peer
 * [,ingress]: its fields into f[], n[] and their count into *nf (5 or 6;
 * the slots past it are not set). */
const char *cbar_cdr_fixed(const char *s, size_t len, const char **f, size_t *n, size_t *nf);

/* A record of a header-named layout (m->custom or not): every field of
 * CBAR_CDR_FIELDS into f[], n[], an empty slice for a column the header
 * does not name.  Columns past the header's are ignored. */
const char *cbar_cdr_mapped(const struct cbar_cdr_map *m, const char *s, size_t len,
                            const char **f, size_t *n);

/* The text a JSON record's fields may point into: a time given as a
 * number, written in decimal, and the message of a bad record. */
struct cbar_cdr_json_text {
	char time[32];
	char msg[200];
};

/*
 * A JSON-lines record: s parsed into *obj (what json_loadb() made of it:
 * NULL when it did not parse, maybe not an object; the caller's to
 * json_decref() in any case) and, when it is a record, every field of
 * CBAR_CDR_FIELDS into f[], n[].  "time" is a string or an integer, "ingress", "roaming",
 * "subscriber", "carrier" and "region" may be absent (empty), "roaming" is
 * true or false (read as "yes", "no").
 */
const char *cbar_cdr_json(const char *s, size_t len, json_t **obj, const char **f, size_t *n,
                          struct cbar_cdr_json_text *tx);

#endif
