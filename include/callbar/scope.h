/*
 * callbar: the words for services, directions, scopes and decisions, in
 * one table each, for every front end and the registry.
 *
 * A scope (CBAR_SCOPE_* bits, callbar/rules.h) is written as the pairs it
 * holds, "voice-in,voice-out,sms-in,sms-out" in that order: the registry
 * keeps this form in its audit entries, so it never changes.  Reading
 * accepts those words and the shorthands voice, sms, in, out and all,
 * separated by commas.
 */
#ifndef CALLBAR_SCOPE_H
#define CALLBAR_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "callbar/rules.h"

/* "voice" / "sms", "in" / "out", "allow" / "block" / "error". */
const char *cbar_service_name(enum cbar_service s);
const char *cbar_direction_name(enum cbar_direction d);
const char *cbar_decision_name(enum cbar_decision d);

/* The words above back to values: false when s (len bytes, no NUL needed)
 * is none of them. */
bool cbar_service_parse(const char *s, size_t len, enum cbar_service *out);
bool cbar_direction_parse(const char *s, size_t len, enum cbar_direction *out);

/* The scope's text into buf (cap bytes, always NUL-ended); "none" for 0.
 * Returns buf.  48 bytes hold any scope. */
#define CBAR_SCOPE_TEXT_MAX 48
char *cbar_scope_str(unsigned scope, char *buf, size_t cap);

/* A scope from its text (len bytes); 0 when a word is unknown or empty. */
unsigned cbar_scope_parse(const char *s, size_t len);

/* "self" / "verified" for an unlock level (enum cbar_unlock_level). */
const char *cbar_level_name(unsigned level);

#endif
