/* utf8.c - UTF-8 validation by a small deterministic automaton (RFC 3629
 * section 4 grammar), used for RFC 6455 5.6 / 8.1.
 *
 * Each byte is first mapped to a class, then (state, class) gives the next
 * state.  The states remember exactly what the next byte must be, which is
 * how overlong forms (E0 80..9F, F0 80..8F), UTF-16 surrogates (ED A0..BF)
 * and code points past U+10FFFF (F4 90..BF, F5..FF) are refused at the first
 * offending byte rather than at the end of the character. */
#include "utf8.h"

#include <string.h>

/* States.  ACCEPT and REJECT are the public values 0 and 1. */
enum {
	S_OK = UTF8_ACCEPT, S_BAD = UTF8_REJECT,
	S_1,     /* one more continuation, any 80..BF */
	S_2,     /* two more, next any 80..BF */
	S_3,     /* three more, next any 80..BF */
	S_E0,    /* after E0: next A0..BF (no overlong 3-byte) */
	S_ED,    /* after ED: next 80..9F (no surrogates) */
	S_F0,    /* after F0: next 90..BF (no overlong 4-byte) */
	S_F4,    /* after F4: next 80..8F (nothing past U+10FFFF) */
	S_N
};

/* Byte classes. */
enum {
	C_ASC, C_80, C_90, C_A0, C_BAD, C_C2, C_E0, C_E1, C_ED, C_F0, C_F1, C_F4,
	C_N
};

static unsigned char byte_class(unsigned char b)
{
	if (b < 0x80) return C_ASC;
	if (b < 0x90) return C_80;
	if (b < 0xa0) return C_90;
	if (b < 0xc0) return C_A0;
	if (b < 0xc2) return C_BAD;     /* C0, C1: always overlong */
	if (b < 0xe0) return C_C2;
	if (b == 0xe0) return C_E0;
	if (b == 0xed) return C_ED;
	if (b < 0xf0) return C_E1;
	if (b == 0xf0) return C_F0;
	if (b < 0xf4) return C_F1;
	if (b == 0xf4) return C_F4;
	return C_BAD;                   /* F5..FF */
}

#define B S_BAD
static const unsigned char next_state[S_N][C_N] = {
	/*          ASC   80   90   A0  BAD   C2    E0    E1    ED    F0    F1    F4 */
	[S_OK] = { S_OK,  B,   B,   B,   B,  S_1, S_E0, S_2, S_ED, S_F0, S_3, S_F4 },
	[S_BAD] = { B,    B,   B,   B,   B,   B,   B,    B,    B,    B,    B,    B },
	[S_1]  = {  B,  S_OK, S_OK, S_OK, B,  B,   B,    B,    B,    B,    B,    B },
	[S_2]  = {  B,  S_1,  S_1,  S_1,  B,  B,   B,    B,    B,    B,    B,    B },
	[S_3]  = {  B,  S_2,  S_2,  S_2,  B,  B,   B,    B,    B,    B,    B,    B },
	[S_E0] = {  B,   B,    B,   S_1,  B,  B,   B,    B,    B,    B,    B,    B },
	[S_ED] = {  B,  S_1,  S_1,   B,   B,  B,   B,    B,    B,    B,    B,    B },
	[S_F0] = {  B,   B,   S_2,  S_2,  B,  B,   B,    B,    B,    B,    B,    B },
	[S_F4] = {  B,  S_2,   B,    B,   B,  B,   B,    B,    B,    B,    B,    B },
};
#undef B

uint32_t utf8_step(uint32_t state, unsigned char byte)
{
	if (state >= S_N)
		return UTF8_REJECT;
	return next_state[state][byte_class(byte)];
}

uint32_t utf8_run(uint32_t state, const void *p, size_t n)
{
	const unsigned char *s = p, *end = s + n;

	while (s < end) {
		/* ASCII runs dominate JSON text: skip them 8 bytes at a time. */
		if (state == UTF8_ACCEPT) {
			while (end - s >= 8) {
				uint64_t w;

				memcpy(&w, s, 8);
				if (w & 0x8080808080808080ull)
					break;
				s += 8;
			}
			while (s < end && *s < 0x80)
				s++;
			if (s == end)
				break;
		}
		state = utf8_step(state, *s++);
		if (state == UTF8_REJECT)
			break;
	}
	return state;
}

int utf8_valid(const void *p, size_t n)
{
	return utf8_run(UTF8_ACCEPT, p, n) == UTF8_ACCEPT;
}
