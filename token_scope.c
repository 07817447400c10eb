/* token_scope.c - scopes and owners as text (see token_scope.h).  The
 * parser is strict: a scope that does not say exactly what it means is
 * refused with the reason, never read as something wider. */
#include "token_scope.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

static const struct {
	const char *name;
	unsigned bit;
} kinds[] = {
	{ "read", TOKEN_CAN_READ },
	{ "control", TOKEN_CAN_CONTROL },
	{ "exec", TOKEN_CAN_EXEC },
	{ "tokens", TOKEN_CAN_TOKENS },
	{ "all", TOKEN_CAN_ALL },
};

void token_scope_all(struct token_scope *s)
{
	s->can = TOKEN_CAN_ALL;
	s->agents[0] = '\0';
}

int token_scope_is_all(const struct token_scope *s)
{
	return s->can == TOKEN_CAN_ALL && s->agents[0] == '\0';
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int token_owner_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TOKEN_OWNER_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!name_char(s[i]) && s[i] != ':' && s[i] != '@' && s[i] != '+')
			return 0;
	return 1;
}

int token_glob_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TOKEN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!name_char(s[i]) && s[i] != '*' && s[i] != '?')
			return 0;
	return 1;
}

void token_scope_kinds(unsigned can, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; kinds[i].bit != TOKEN_CAN_ALL; i++)
		if (can & kinds[i].bit) {
			int w = fmt_snprintf(out + len, cap - len, "%s%s", len ? "," : "", kinds[i].name);

			if (w < 0 || (size_t)w >= cap - len)
				return;
			len += (size_t)w;
		}
}

/* 1 if the selector sel[0..n) is already in the comma list. */
static int listed(const char *list, const char *sel, size_t n)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && memcmp(p, sel, n) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* "agents=" v[0..n): the selectors into s->agents (or "" for "*"). */
static int parse_agents(const char *v, size_t n, struct token_scope *s, char *err, size_t errlen)
{
	size_t pos = 0, len = 0;
	int count = 0, every = 0;

	while (pos <= n) {
		const char *sel = v + pos, *comma = memchr(sel, ',', n - pos);
		size_t l = comma ? (size_t)(comma - sel) : n - pos;
		int owner = l > 6 && memcmp(sel, "owner:", 6) == 0;

		if (l == 0) {
			fmt_snprintf(err, errlen, "scope: an empty agent selector (agents=SEL,SEL,...)");
			return -1;
		}
		if (owner ? !token_owner_valid(sel + 6, l - 6) : !token_glob_valid(sel, l)) {
			fmt_snprintf(err, errlen, "scope: '%.*s' is neither an agent name glob nor owner:WHO "
				 "(letters, digits and . _ - ; a glob may use * and ?; WHO also : @ +)",
				 (int)(l > 80 ? 80 : l), sel);
			return -1;
		}
		if (++count > CFG_SCOPE_SELECTORS_MAX) {
			fmt_snprintf(err, errlen, "scope: more than " CFG_STR(CFG_SCOPE_SELECTORS_MAX)
				 " agent selectors");
			return -1;
		}
		if (l == 1 && sel[0] == '*')
			every = 1;
		else if (!listed(s->agents, sel, l)) {
			if (len + (len ? 1 : 0) + l > CFG_SCOPE_MAX)
				break;   /* cannot happen within the text bound; refused below */
			if (len)
				s->agents[len++] = ',';
			memcpy(s->agents + len, sel, l);
			s->agents[len += l] = '\0';
		}
		pos += l + 1;
	}
	if (pos <= n) {
		fmt_snprintf(err, errlen, "scope: too long");
		return -1;
	}
	if (every)
		s->agents[0] = '\0';
	return 0;
}

static int parse_can(const char *v, size_t n, struct token_scope *s, char *err, size_t errlen)
{
	size_t pos = 0, i;

	s->can = 0;
	while (pos <= n) {
		const char *k = v + pos, *comma = memchr(k, ',', n - pos);
		size_t l = comma ? (size_t)(comma - k) : n - pos;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strlen(kinds[i].name) == l && memcmp(kinds[i].name, k, l) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			fmt_snprintf(err, errlen, "scope: unknown kind of command '%.*s' "
				 "(read, control, exec, tokens, all)", (int)(l > 40 ? 40 : l), k);
			return -1;
		}
		s->can |= kinds[i].bit;
		pos += l + 1;
	}
	return 0;
}

/* One PART, p[0..n). *seen: the parts already given. */
static int parse_part(const char *p, size_t n, unsigned *seen, struct token_scope *s,
		      char *err, size_t errlen)
{
	static const char a[] = "agents=", c[] = "can=";
	int is_a = n >= sizeof(a) - 1 && memcmp(p, a, sizeof(a) - 1) == 0;
	int is_c = n >= sizeof(c) - 1 && memcmp(p, c, sizeof(c) - 1) == 0;
	size_t skip = is_a ? sizeof(a) - 1 : sizeof(c) - 1;
	unsigned bit = is_a ? 1u : 2u;

	if (!is_a && !is_c) {
		fmt_snprintf(err, errlen, "scope: '%.*s' is not agents=... or can=...",
			 (int)(n > 40 ? 40 : n), p);
		return -1;
	}
	if (*seen & bit) {
		fmt_snprintf(err, errlen, "scope: %s given twice", is_a ? "agents=" : "can=");
		return -1;
	}
	*seen |= bit;
	if (n == skip) {
		fmt_snprintf(err, errlen, "scope: %s needs at least one %s", is_a ? "agents=" : "can=",
			 is_a ? "selector" : "kind");
		return -1;
	}
	return is_a ? parse_agents(p + skip, n - skip, s, err, errlen)
		    : parse_can(p + skip, n - skip, s, err, errlen);
}

int token_scope_parse(const char *text, size_t n, struct token_scope *s, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned seen = 0;

	token_scope_all(s);
	if (n == 0 || n > CFG_SCOPE_MAX) {
		fmt_snprintf(err, errlen, n ? "scope: longer than " CFG_STR(CFG_SCOPE_MAX) " bytes"
			 : "scope: empty (agents=SEL,...;can=KIND,...)");
		return -1;
	}
	while (pos <= n) {
		const char *p = text + pos, *semi = memchr(p, ';', n - pos);
		size_t l = semi ? (size_t)(semi - p) : n - pos;

		if (parse_part(p, l, &seen, s, err, errlen) < 0) {
			token_scope_all(s);
			return -1;
		}
		pos += l + 1;
	}
	return 0;
}

void token_scope_format(const struct token_scope *s, char *out, size_t cap)
{
	char k[32];
	int w = 0;

	out[0] = '\0';
	if (s->agents[0])
		w = fmt_snprintf(out, cap, "agents=%s", s->agents);
	if (w < 0 || (size_t)w >= cap)
		return;
	if (s->can != TOKEN_CAN_ALL) {
		token_scope_kinds(s->can, k, sizeof(k));
		fmt_snprintf(out + w, cap - (size_t)w, "%scan=%s", w ? ";" : "", k);
	}
}
