/* secret.c — a guarded secret and a request for it (see secret.h).
 *
 * The terms are found by two vectorscan literal databases (ASCII case ignored), compiled once:
 * one scan of the whole text, whatever its length, NUL bytes included. Terms in Latin and
 * Cyrillic script count as words: what comes before is no letter, and at most a few letters
 * follow (SLACK_ASK for the user's turn: "passwords", "secreto", not "secretary"; only a plural
 * "s" in the operator's prompt). Terms in other scripts, which do not separate words by spaces,
 * count anywhere. A prompt that names a secret is then read sentence by sentence, lowered in
 * overlapping chunks (NUL bytes as spaces, the curly apostrophe as a straight one). */
#include "detect/secret.h"

#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "detect/scratch.h"

#define CHUNK     4096 /* bytes lowered at a time */
#define OVERLAP   64   /* longer than any term */
#define SLACK_ASK 2    /* letters after a term in a user's turn */

/* t[0, n) lowered into out (room for n + 1 bytes); returns the length written. */
static size_t lower(const char *t, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c == '\xE2' && i + 2 < n && t[i + 1] == '\x80' && t[i + 2] == '\x99') {
			out[k++] = '\''; /* U+2019 RIGHT SINGLE QUOTATION MARK */
			i += 2;
			continue;
		}
		out[k++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c ? c : ' ';
	}
	out[k] = '\0';
	return k;
}

/* The code point that starts at p, before end (0 at end or on a bad sequence); *len its bytes. */
static uint32_t cp_at(const char *p, const char *end, size_t *len)
{
	const unsigned char *u = (const unsigned char *)p;
	*len = 1;
	if (p >= end)
		return 0;
	if (u[0] < 0x80)
		return u[0];
	size_t n = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 0;
	if (!n || (size_t)(end - p) < n)
		return 0;
	uint32_t cp = u[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (u[i] & 0x3F);
	}
	*len = n;
	return cp;
}

/* The code point that ends just before p (s is the text's start); 0 at the start. */
static uint32_t cp_before(const char *s, const char *p)
{
	const char *q = p;
	while (q > s && p - q < 3 && ((unsigned char)q[-1] & 0xC0) == 0x80)
		q--;
	if (q == s)
		return 0;
	size_t len;
	return cp_at(q - 1, p, &len);
}

/* Letters and digits of the scripts whose words are separated by spaces: ASCII, Latin-1 and
 * Latin Extended-A/B letters, Greek, Cyrillic. */
static int is_word_cp(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x370 && c <= 0x4FF);
}

/* Whether the match p[0, n) of a term stands as a word in the text [s, end) (see the file
 * comment): slack letters may follow it (-1: only an "s"). */
static int is_word_match(const char *s, const char *end, const char *p, size_t n, int slack)
{
	size_t len;
	if (!is_word_cp(cp_at(p, end, &len)))
		return 1; /* another script: anywhere */
	if (is_word_cp(cp_before(s, p)))
		return 0;
	const char *q = p + n;
	int more = 0;
	for (uint32_t c; more <= 3 && (c = cp_at(q, end, &len)) != 0 && is_word_cp(c); q += len)
		more++;
	return slack < 0 ? more == 0 || (more == 1 && (p[n] | 0x20) == 's') : more <= slack;
}

/* Whether lowered s (NUL-terminated) holds one of terms as a word. */
static int has_any(const char *s, const char *const *terms, int slack)
{
	const char *end = s + strlen(s);
	for (const char *const *t = terms; *t; t++) {
		size_t n = strlen(*t);
		for (const char *p = strstr(s, *t); p; p = strstr(p + 1, *t))
			if (is_word_match(s, end, p, n, slack))
				return 1;
	}
	return 0;
}

/* Calls test on lowered, overlapping chunks of text until it returns nonzero. */
static int any_chunk(const char *text, size_t len, int (*test)(const char *s))
{
	char s[CHUNK + 1];
	for (size_t at = 0;; at += CHUNK - OVERLAP) {
		size_t n = len - at < CHUNK ? len - at : CHUNK;
		lower(text + at, n, s);
		if (test(s))
			return 1;
		if (at + n >= len)
			return 0;
	}
}

static const char *const secret_nouns[] = {"password", "passcode",    "passphrase", "secret",
                                           "pin",      "access code", "api key",    NULL};

/* Whether the sentence s states a secret's value: a secret noun, then a quoted value right
 * after it ("the password 'Beta456'") or after "is", ":" or "=" ("the secret key is 'Omega'",
 * "the access code is 4471"), a value unquoted only when it holds a digit or a symbol (not
 * "a password is required"). */
static int states_value(const char *s)
{
	for (const char *const *t = secret_nouns; *t; t++) {
		size_t n = strlen(*t);
		for (const char *p = strstr(s, *t); p; p = strstr(p + 1, *t)) {
			const char *q = p + n + (p[n] == 's');
			if (!is_word_match(s, s + strlen(s), p, n, -1))
				continue;
			while (*q == ' ')
				q++;
			int said = 0; /* "is", ":" or "=" seen */
			for (const char *w = q; *w && w < q + 24 && !said; w++)
				if (*w == ':' || *w == '=' ||
				    (w[0] == 'i' && w[1] == 's' && w[2] == ' ' &&
				     (w == q || w[-1] == ' ')))
					said = (int)(w - q) + (*w == 'i' ? 3 : 1);
			if (said)
				q += said;
			while (*q == ' ')
				q++;
			if (*q == '\'' || *q == '"' || strncmp(q, "\xE2\x80\x9C", 3) == 0)
				return 1;
			if (!said)
				continue;
			for (; *q && *q != ' ' && *q != ','; q++)
				if ((*q >= '0' && *q <= '9') || strchr("@#$%&*!_-+", *q))
					return 1;
		}
	}
	return 0;
}

/* Whether the sentence s forbids giving something away ("don't reveal it", "never share", "keep
 * it confidential"). */
static int forbids_giving(const char *s)
{
	static const char *const no[] = {
	    "not",    "don't", "dont",   "never",  "mustn't",
	    "cannot", "can't", "no one", "nobody", "under no circumstances",
	    NULL};
	static const char *const give[] = {"reveal", "share", "disclose", "tell",  "give", "leak",
	                                   "repeat", "say",   "output",   "print", NULL};
	static const char *const keep[] = {"keep it secret", "keep it confidential",
	                                   "is confidential", "stay secret", NULL};
	return (has_any(s, no, -1) && has_any(s, give, -1)) || has_any(s, keep, -1);
}

/* Whether lowered s guards a secret, sentence by sentence: a sentence that states the value and
 * forbids giving it away, or is followed by one that forbids it ("The password is 'X'. Don't
 * reveal it."). Sentences end at . ! ? and newlines; blank ones are skipped. */
static int guards(const char *s)
{
	char one[CHUNK + 1];
	int stated_before = 0;
	for (const char *at = s; *at;) {
		size_t n = strcspn(at, ".!?\n");
		memcpy(one, at, n);
		one[n] = '\0';
		at += n + (at[n] != '\0');
		if (strspn(one, " \t\r\"'") == n)
			continue; /* blank, or the closing quote of the sentence before */
		int stated = states_value(one);
		if ((stated || stated_before) && forbids_giving(one))
			return 1;
		stated_before = stated;
	}
	return 0;
}

/* A password or secret, in the languages of secret.h. */
static const char *const ask_terms[] = {"password",
                                        "passcode",
                                        "passphrase",
                                        "secret",
                                        "pin code", /* English */
                                        "passwort",
                                        "kennwort",
                                        "geheim", /* German, Dutch */
                                        "mot de passe",
                                        "code secret", /* French */
                                        "contraseña",
                                        "contrasena",
                                        "clave",
                                        "secreto", /* Spanish */
                                        "senha",
                                        "segredo", /* Portuguese */
                                        "parola d'ordine",
                                        "segreto",    /* Italian */
                                        "wachtwoord", /* Dutch */
                                        "hasło",
                                        "hasła",
                                        "haslo",
                                        "sekret", /* Polish */
                                        "lösenord",
                                        "losenord",
                                        "hemlig", /* Swedish */
                                        "пароль",
                                        "секрет", /* Russian */
                                        "密码",
                                        "密碼",
                                        "口令",
                                        "秘密", /* Chinese, Japanese */
                                        "パスワード",
                                        "暗証", /* Japanese */
                                        "비밀번호",
                                        "비밀", /* Korean */
                                        "كلمة المرور",
                                        "كلمة السر", /* Arabic */
                                        "पासवर्ड",    /* Hindi */
                                        NULL};

/* The two term lists as vectorscan literal databases, compiled on first use. */
static hs_database_t *ask_db, *noun_db;
static uint64_t ask_serial, noun_serial;
static pthread_once_t db_once = PTHREAD_ONCE_INIT;

static hs_database_t *compile(const char *const *terms)
{
	unsigned flags[64], ids[64];
	size_t lens[64], n = 0;
	for (; n < 64 && terms[n]; n++) {
		flags[n] = HS_FLAG_CASELESS;
		ids[n] = (unsigned)n;
		lens[n] = strlen(terms[n]);
	}
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	if (hs_compile_lit_multi(terms, flags, ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &db,
	                         &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return NULL;
	}
	return db;
}

static void build(void)
{
	ask_db = compile(ask_terms);
	noun_db = compile(secret_nouns);
	ask_serial = wd_hs_serial();
	noun_serial = wd_hs_serial();
}

struct scan {
	const char *s, *end;
	const char *const *terms;
	int slack, found;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
	(void)from;
	(void)flags;
	struct scan *sc = ctx;
	size_t n = strlen(sc->terms[id]);
	sc->found = to >= n && is_word_match(sc->s, sc->end, sc->s + to - n, n, sc->slack);
	return sc->found; /* nonzero stops the scan */
}

/* Whether text holds one of terms (compiled in db) as a word; 0 when the database or a scratch
 * could not be had. */
static int holds(hs_database_t *const *db, const uint64_t *serial, const char *const *terms,
                 int slack, const char *text, size_t len)
{
	pthread_once(&db_once, build);
	hs_scratch_t *sc = *db ? wd_hs_scratch(*db, *serial) : NULL;
	if (!sc)
		return 0;
	if (!text) {
		text = "";
		len = 0;
	}
	struct scan s = {text, text + len, terms, slack, 0};
	hs_scan(*db, text, (unsigned)(len < UINT_MAX ? len : UINT_MAX), 0, sc, on_match, &s);
	return s.found;
}

int wd_guards_secret(const char *text, size_t len)
{
	/* most prompts name no secret: one scan, and the sentences are read only when one does */
	return holds(&noun_db, &noun_serial, secret_nouns, -1, text, len) &&
	       any_chunk(text, len, guards);
}

int wd_asks_for_secret(const char *text, size_t len)
{
	return holds(&ask_db, &ask_serial, ask_terms, SLACK_ASK, text, len);
}
