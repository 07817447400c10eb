/* test_base64.c - RFC 4648 section 10 vectors and strictness. */
#include "t.h"
#include "base64.h"

void test_base64_rfc4648(void);
void test_base64_binary(void);
void test_base64_strict(void);

static const char *vec[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

void test_base64_rfc4648(void)
{
	char out[32];
	unsigned char back[32];
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = base64_encode(vec[i][0], strlen(vec[i][0]), out);
		int m;

		CHECK(n == strlen(vec[i][1]));
		CHECK(n == BASE64_LEN(strlen(vec[i][0])));
		CHECK_STR(out, vec[i][1]);
		m = base64_decode(vec[i][1], strlen(vec[i][1]), back, sizeof(back));
		CHECK(m == (int)strlen(vec[i][0]));
		if (m >= 0)
			CHECK_MEM(back, (size_t)m, vec[i][0], strlen(vec[i][0]));
	}
}

void test_base64_binary(void)
{
	unsigned char in[256], back[256];
	char out[BASE64_LEN(256) + 1];
	int i;

	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	base64_encode(in, 256, out);
	CHECK(base64_decode(out, strlen(out), back, sizeof(back)) == 256);
	CHECK(memcmp(in, back, 256) == 0);
	/* The RFC 6455 sample nonce is 16 bytes. */
	CHECK(base64_decode("dGhlIHNhbXBsZSBub25jZQ==", 24, back, 16) == 16);
	CHECK_MEM(back, 16, "the sample nonce", 16);
}

void test_base64_strict(void)
{
	unsigned char o[16];

	CHECK(base64_decode("Zg=", 3, o, sizeof(o)) == -1);      /* length */
	CHECK(base64_decode("Zg", 2, o, sizeof(o)) == -1);
	CHECK(base64_decode("Zh==", 4, o, sizeof(o)) == -1);     /* unused bits */
	CHECK(base64_decode("Zm9=", 4, o, sizeof(o)) == -1);
	CHECK(base64_decode("Z===", 4, o, sizeof(o)) == -1);
	CHECK(base64_decode("=Zg=", 4, o, sizeof(o)) == -1);
	CHECK(base64_decode("Zg==Zg==", 8, o, sizeof(o)) == -1); /* inner pad */
	CHECK(base64_decode("Zm 9", 4, o, sizeof(o)) == -1);     /* space */
	CHECK(base64_decode("Zm9v\n", 5, o, sizeof(o)) == -1);
	CHECK(base64_decode("Zm-_", 4, o, sizeof(o)) == -1);     /* url alphabet */
	CHECK(base64_decode("Zm9vYmFy", 8, o, 5) == -1);         /* cap */
	CHECK(base64_decode("Zm9vYmFy", 8, o, 6) == 6);
	CHECK(base64_decode("Zm8=", 4, o, 1) == -1);
	CHECK(base64_decode("Zm\0v", 4, o, sizeof(o)) == -1);
}
