/* base64.c - RFC 4648 section 4 encoding and a strict decoder.
 *
 * The decoder is strict on purpose: Sec-WebSocket-Key must decode to exactly
 * 16 bytes (RFC 6455 4.2.1), and accepting sloppy encodings would only make
 * two different keys look the same. */
#include "base64.h"

static const char enc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *s = in;
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16 | s[i + 1] << 8 | s[i + 2];

		out[o++] = enc[v >> 18];
		out[o++] = enc[(v >> 12) & 63];
		out[o++] = enc[(v >> 6) & 63];
		out[o++] = enc[v & 63];
	}
	if (n - i == 1) {
		out[o++] = enc[s[i] >> 2];
		out[o++] = enc[(s[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = enc[s[i] >> 2];
		out[o++] = enc[(s[i] & 3) << 4 | s[i + 1] >> 4];
		out[o++] = enc[(s[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int dec(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t i, o = 0;

	if (n % 4 || n / 4 * 3 > (size_t)0x7fffffff)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = dec(in[i]), b = dec(in[i + 1]);
		int c = dec(in[i + 2]), d = dec(in[i + 3]);
		int last = i + 4 == n;

		if (a < 0 || b < 0)
			return -1;
		if (last && in[i + 2] == '=' && in[i + 3] == '=') {
			if (b & 15 || o + 1 > cap)   /* non-zero unused bits */
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		if (c < 0)
			return -1;
		if (last && in[i + 3] == '=') {
			if (c & 3 || o + 2 > cap)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)(b << 4 | c >> 2);
			break;
		}
		if (d < 0 || o + 3 > cap)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)(b << 4 | c >> 2);
		out[o++] = (unsigned char)(c << 6 | d);
	}
	return (int)o;
}
