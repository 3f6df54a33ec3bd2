/* callbar serve: the web console's sessions and failed sign-ins (session.h). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

enum cbar_err cbar_sessions_init(struct sessions *s)
{
	memset(s, 0, sizeof *s);
	if (sodium_init() < 0)
		return CBAR_NOMEM;
	if (!(s->tab = calloc(SESSION_MAX, sizeof *s->tab)))
		return CBAR_NOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->idle_s = SESSION_IDLE_S;
	s->life_s = SESSION_LIFE_S;
	return CBAR_OK;
}

void cbar_sessions_release(struct sessions *s)
{
	if (!s->tab)
		return;
	sodium_memzero(s->tab, SESSION_MAX * sizeof *s->tab);
	free(s->tab);
	s->tab = NULL;
	pthread_mutex_destroy(&s->lock);
}

static bool is_free(const struct session_entry *e)
{
	static const uint8_t zero[32];
	return !memcmp(e->id_hash, zero, sizeof zero);
}

static void clear(struct session_entry *e)
{
	sodium_memzero(e, sizeof *e);
}

static bool expired(const struct sessions *s, const struct session_entry *e, int64_t now)
{
	return now - e->last >= s->idle_s || now - e->created >= s->life_s;
}

static void random_text(char out[SESSION_ID_LEN + 1])
{
	uint8_t raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, SESSION_ID_LEN + 1, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

enum cbar_err cbar_session_begin(struct sessions *s, const char *token, size_t len, int64_t now,
                                 char id[SESSION_ID_LEN + 1], char csrf[SESSION_ID_LEN + 1])
{
	if (len >= TOKEN_TEXT_MAX)
		return CBAR_INVAL;
	random_text(id);
	random_text(csrf);
	pthread_mutex_lock(&s->lock);
	/* A free or expired entry, else the one used least recently. */
	struct session_entry *slot = NULL, *lru = &s->tab[0];
	for (size_t i = 0; i < SESSION_MAX; i++) {
		struct session_entry *e = &s->tab[i];
		if (!is_free(e) && expired(s, e, now))
			clear(e);
		if (is_free(e)) {
			slot = e;
			break;
		}
		if (e->last < lru->last)
			lru = e;
	}
	if (!slot)
		slot = lru;
	clear(slot);
	crypto_hash_sha256(slot->id_hash, (const uint8_t *)id, SESSION_ID_LEN);
	memcpy(slot->csrf, csrf, SESSION_ID_LEN + 1);
	memcpy(slot->token, token, len);
	slot->token[len] = '\0';
	slot->created = slot->last = now;
	pthread_mutex_unlock(&s->lock);
	return CBAR_OK;
}

/* The entry of id, under the lock; NULL when there is none.  Every entry
 * is compared, so the time says nothing of where a match is. */
static struct session_entry *lookup(struct sessions *s, const char *id, size_t len)
{
	if (len != SESSION_ID_LEN)
		return NULL;
	uint8_t h[32];
	crypto_hash_sha256(h, (const uint8_t *)id, len);
	struct session_entry *found = NULL;
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (!sodium_memcmp(s->tab[i].id_hash, h, sizeof h) && !is_free(&s->tab[i]))
			found = &s->tab[i];
	return found;
}

bool cbar_session_find(struct sessions *s, const char *id, size_t len, int64_t now,
                       struct session_view *out)
{
	pthread_mutex_lock(&s->lock);
	struct session_entry *e = lookup(s, id, len);
	if (e && expired(s, e, now)) {
		clear(e);
		e = NULL;
	}
	if (e) {
		e->last = now;
		memcpy(out->token, e->token, sizeof out->token);
		memcpy(out->csrf, e->csrf, sizeof out->csrf);
		int64_t idle = s->idle_s, life = e->created + s->life_s - now;
		out->expires_in = idle < life ? idle : life;
	}
	pthread_mutex_unlock(&s->lock);
	return e != NULL;
}

bool cbar_session_end(struct sessions *s, const char *id, size_t len)
{
	pthread_mutex_lock(&s->lock);
	struct session_entry *e = lookup(s, id, len);
	if (e)
		clear(e);
	pthread_mutex_unlock(&s->lock);
	return e != NULL;
}

void cbar_session_end_token(struct sessions *s, const char *token)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (!is_free(&s->tab[i]) && cbar_session_equal(s->tab[i].token, token))
			clear(&s->tab[i]);
	pthread_mutex_unlock(&s->lock);
}

unsigned cbar_session_count(struct sessions *s, int64_t now)
{
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < SESSION_MAX; i++)
		n += !is_free(&s->tab[i]) && !expired(s, &s->tab[i], now);
	pthread_mutex_unlock(&s->lock);
	return n;
}

bool cbar_session_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* The lengths are not secret (every id and token has one length). */
	return la == lb && !sodium_memcmp(a, b, la);
}

/* FNV-1a of the address, never 0. */
static uint64_t addr_key(const char *addr)
{
	uint64_t h = 1469598103934665603ull;
	for (; *addr; addr++)
		h = (h ^ (uint8_t)*addr) * 1099511628211ull;
	return h ? h : 1;
}

/* The entry of addr, under the lock: its own, a free one, or the one whose
 * window began longest ago (taken over, its count restarted). */
static struct signin_addr *addr_entry(struct sessions *s, const char *addr, int64_t now)
{
	uint64_t k = addr_key(addr);
	struct signin_addr *free_one = NULL, *oldest = &s->addrs[0];
	for (size_t i = 0; i < SIGNIN_ADDRS; i++) {
		struct signin_addr *a = &s->addrs[i];
		if (a->key == k) {
			if (now - a->window >= SIGNIN_WINDOW_S) {
				a->window = now;
				a->fails = 0;
			}
			return a;
		}
		if (!a->key && !free_one)
			free_one = a;
		if (a->window < oldest->window)
			oldest = a;
	}
	struct signin_addr *a = free_one ? free_one : oldest;
	*a = (struct signin_addr){.key = k, .window = now};
	return a;
}

bool cbar_signin_allowed(struct sessions *s, const char *addr, int64_t now, unsigned *retry_s)
{
	pthread_mutex_lock(&s->lock);
	struct signin_addr *a = addr_entry(s, addr, now);
	bool ok = a->fails < SIGNIN_FAILS_MAX;
	*retry_s = ok ? 0 : (unsigned)(a->window + SIGNIN_WINDOW_S - now);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void cbar_signin_failed(struct sessions *s, const char *addr, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	addr_entry(s, addr, now)->fails++;
	pthread_mutex_unlock(&s->lock);
}
