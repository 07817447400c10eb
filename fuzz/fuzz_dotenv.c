/* fuzz_dotenv.c - libFuzzer target for the .env reader (dotenv.c) and the
 * .env form of a token file (token_dotenv).
 *
 * Properties checked (abort on violation):
 *  - no crash, leak or read past the n bytes given, whatever the text;
 *  - a value found is NUL-terminated, as long as the length returned, and
 *    holds no NUL; a text with a value for some key has a binding;
 *  - the bound is exact: a smaller buffer gives the same value when it
 *    fits, DOTENV_BAD when it does not, never a cut one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../dotenv.h"
#include "../token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

static void one_key(const char *s, size_t n, const char *key)
{
	char big[4096], small[8];
	int rb = dotenv_get(s, n, key, big, sizeof(big));
	int rs = dotenv_get(s, n, key, small, sizeof(small));

	MUST(rb >= DOTENV_BAD);
	if (rb >= 0) {
		MUST((size_t)rb == strlen(big));
		MUST(dotenv_has_binding(s, n) == 1);
		if (rb < (int)sizeof(small))
			MUST(rs == rb && !strcmp(small, big));
		else
			MUST(rs == DOTENV_BAD && small[0] == '\0');
	} else {
		MUST(big[0] == '\0');
		MUST(rs == rb || (rb == DOTENV_BAD && rs == DOTENV_BAD));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes: ASan catches any read past them */
	char *s = malloc(size ? size : 1), key[64], tok[TOKEN_LEN + 8];
	const char *eq;
	size_t kl;

	if (!s)
		return 0;
	memcpy(s, data, size);
	one_key(s, size, "K");
	one_key(s, size, "CLIENT_TOKEN");
	/* the first line's key, whatever it is */
	eq = memchr(s, '=', size);
	kl = eq ? (size_t)(eq - s) : 0;
	if (kl && kl < sizeof(key) && !memchr(s, '\0', kl)) {
		memcpy(key, s, kl);
		key[kl] = '\0';
		one_key(s, size, key);
	}
	switch (token_dotenv(s, size, tok, sizeof(tok))) {
	case 1:
		MUST(strlen(tok) < sizeof(tok) && tok[0]);
		MUST(dotenv_has_binding(s, size) == 1);
		break;
	case 0:
		MUST(dotenv_has_binding(s, size) == 0);
		break;
	}
	free(s);
	return 0;
}
