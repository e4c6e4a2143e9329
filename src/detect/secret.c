/* secret.c — a guarded secret and a request for it (see secret.h). */
#include "detect/secret.h"

#include <string.h>

/* ASCII letters lowered, into out (at most cap - 1 bytes, NUL-terminated); other bytes kept. */
static size_t lower(const char *t, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (; k < n && k + 1 < cap; k++) {
		char c = t[k];
		out[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[k] = '\0';
	return k;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (unsigned char)c >= 0x80;
}

/* Whether s holds term: for an ASCII term, at the start of a word and followed by at most two
 * more letters; any other term (another script) anywhere. Returns the match or NULL. */
static const char *find_term(const char *s, const char *term)
{
	size_t n = strlen(term);
	int ascii = (unsigned char)term[0] < 0x80;
	for (const char *p = strstr(s, term); p; p = strstr(p + 1, term)) {
		if (!ascii)
			return p;
		if (p > s && is_letter(p[-1]))
			continue;
		size_t more = 0;
		while (more < 3 && is_letter(p[n + more]))
			more++;
		if (more <= 2)
			return p;
	}
	return NULL;
}

static const char *find_any(const char *s, const char *const *terms)
{
	for (const char *const *t = terms; *t; t++) {
		const char *p = find_term(s, *t);
		if (p)
			return p;
	}
	return NULL;
}

#define CHECK_BYTES 8192 /* of each text looked at */

int wd_guards_secret(const char *text, size_t len)
{
	static const char *const nouns[] = {"password", "passcode",    "passphrase", "secret",
	                                    "pin",      "access code", "api key",    NULL};
	static const char *const forbid[] = {
	    "not",     "don't",  "dont",   "never",
	    "mustn't", "no one", "nobody", "under no circumstances",
	    NULL};
	static const char *const give[] = {"reveal", "share", "disclose", "tell",  "give", "leak",
	                                   "repeat", "say",   "output",   "print", NULL};
	static const char *const keep[] = {"keep it secret",  "keep it confidential",
	                                   "is confidential", "is secret",
	                                   "stay secret",     NULL};
	char s[CHECK_BYTES];
	size_t n = lower(text, len, s, sizeof s);
	/* sentence by sentence: the secret and the ban on giving it away in the same one (or the
	 * ban in the sentence right after: "The password is 'X'. Don't reveal it.") */
	int named_before = 0;
	for (size_t at = 0; at < n;) {
		size_t end = at + strcspn(s + at, ".!?\n");
		char keep_c = s[end];
		s[end] = '\0';
		int named = find_any(s + at, nouns) != NULL;
		int banned =
		    (find_any(s + at, forbid) && find_any(s + at, give)) || find_any(s + at, keep);
		s[end] = keep_c;
		if (banned && (named || named_before))
			return 1;
		named_before = named;
		at = end + 1;
	}
	return 0;
}

int wd_asks_for_secret(const char *text, size_t len)
{
	static const char *const terms[] = {"password",
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
	                                    "암호",
	                                    "비밀", /* Korean */
	                                    "كلمة المرور",
	                                    "كلمة السر", /* Arabic */
	                                    "पासवर्ड",    /* Hindi */
	                                    NULL};
	char s[CHECK_BYTES];
	lower(text, len, s, sizeof s);
	return find_any(s, terms) != NULL;
}
