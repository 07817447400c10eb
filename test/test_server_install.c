/* test_server_install.c - the embedded install.sh and its filled-in
 * defaults, and the uname -m to ARCH table (the same as install.sh's). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "../server_install.h"
#include "../server_opts.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#include "embed.h"

extern const struct embed_file install_files[];
static unsigned char *install_sh_mem;
static size_t install_sh_len;
#define install_sh ((const char *)install_sh_mem)

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

void test_server_install_script(void)
{
	struct buf b;

	/* Stored gzip-compressed; inflated here as the server does. */
	CHECK(install_files[0].usize > 1000 && install_files[0].size < install_files[0].usize);
	CHECK(embed_data(&install_files[0], &install_sh_len, &install_sh_mem) != NULL);
	if (!install_sh_mem)
		return;
	CHECK(install_sh_len > 1000 && install_sh[install_sh_len] == '\0');
	CHECK(strlen(install_sh) == install_sh_len);
	CHECK(strncmp(install_sh, "#!/bin/sh\n", 10) == 0);
	/* The two lines the server fills in, each exactly once, empty. */
	CHECK(count(install_sh, "\nNESTD_DEFAULT_SERVER=''\n") == 1);
	CHECK(count(install_sh, "\nNESTD_DEFAULT_BASE=''\n") == 1);

	buf_init(&b, 0);
	CHECK(server_install_script("wss://bot.example.org/", "https://bot.example.org/dist", &b) == 0);
	CHECK(count(b.p, "\nNESTD_DEFAULT_SERVER='wss://bot.example.org/'\n") == 1);
	CHECK(count(b.p, "\nNESTD_DEFAULT_BASE='https://bot.example.org/dist'\n") == 1);
	CHECK(count(b.p, "NESTD_DEFAULT_SERVER=''") == 0);
	/* Only those lines change. */
	CHECK(b.len == install_sh_len + strlen("wss://bot.example.org/") +
	      strlen("https://bot.example.org/dist"));
	CHECK(b.len >= 20 && memcmp(b.p + b.len - 20, install_sh + install_sh_len - 20, 20) == 0);
	buf_free(&b);

	buf_init(&b, 100);   /* out of room: -1, not a crash */
	CHECK(server_install_script("ws://h/", "http://h/dist", &b) == -1);
	buf_free(&b);
	free(install_sh_mem);
}

void test_server_install_arch(void)
{
	static const char *const pairs[][2] = {
		{ "x86_64", "x86_64" }, { "amd64", "x86_64" }, { "aarch64", "aarch64" },
		{ "arm64", "aarch64" }, { "armv7l", "armv7" }, { "armv8l", "armv7" },
		{ "armv6l", "armv6" }, { "i686", "i386" }, { "i386", "i386" }, { "i586", "i386" },
		{ "riscv64", "riscv64" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "i786", "i786" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		server_install_arch(pairs[i][0], out, sizeof(out));
		CHECK_STR(out, pairs[i][1]);
	}
}

/* --public-url as the option parser applies it. */
static int set_url(struct server_opts *o, const char *v, char *err, size_t errlen)
{
	return server_install_parse_url(v, o->public_url, sizeof(o->public_url), err, errlen);
}

void test_server_install_public_url(void)
{
	struct server_opts *s = calloc(1, sizeof(*s));
	char err[256];

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(set_url(s, "https://bot.example.org/", err, sizeof(err)) == 0);
	CHECK_STR(s->public_url, "https://bot.example.org");
	CHECK(set_url(s, "http://[::1]:8989/nest", err, sizeof(err)) == 0);
	CHECK_STR(s->public_url, "http://[::1]:8989/nest");
	CHECK(set_url(s, "ftp://x", err, sizeof(err)) == -1);
	CHECK(set_url(s, "https://", err, sizeof(err)) == -1);
	CHECK(set_url(s, "https:///x", err, sizeof(err)) == -1);
	CHECK(set_url(s, "https://a'b", err, sizeof(err)) == -1);
	CHECK(set_url(s, "https://a b", err, sizeof(err)) == -1);
	CHECK(set_url(s, "https://a/$(id)", err, sizeof(err)) == -1);
	free(s);
}

/* An ELF header (64 or 32 bits, either byte order) with nph program
 * headers, the first of type first_type, into a temp file: its fd. */
static int elf_file(int wide, int le, int nph, unsigned first_type)
{
	unsigned char b[256];
	char name[] = "/tmp/nestd-elf-XXXXXX";
	int fd = mkstemp(name), i, phoff = wide ? 64 : 52, phent = wide ? 56 : 32;

	if (fd < 0)
		return -1;
	unlink(name);
	memset(b, 0, sizeof(b));
	memcpy(b, "\177ELF", 4);
	b[4] = wide ? 2 : 1;
	b[5] = le ? 1 : 2;
#define PUT(off, size, v) do { for (i = 0; i < (size); i++) \
	b[(off) + (le ? i : (size) - 1 - i)] = (unsigned char)((unsigned long)(v) >> (8 * i)); } while (0)
	if (wide) {
		PUT(32, 8, phoff);
		PUT(54, 2, phent);
		PUT(56, 2, nph);
	} else {
		PUT(28, 4, phoff);
		PUT(42, 2, phent);
		PUT(44, 2, nph);
	}
	for (i = 0; i < nph; i++) {
		unsigned t = i == 0 ? first_type : 1, k;

		for (k = 0; k < 4; k++)
			b[phoff + i * phent + (le ? k : 3 - k)] = (unsigned char)(t >> (8 * k));
	}
#undef PUT
	if (write(fd, b, (size_t)(phoff + nph * phent)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void test_server_install_elf_static(void)
{
	int wide, le, fd;

	for (wide = 0; wide < 2; wide++)
		for (le = 0; le < 2; le++) {
			fd = elf_file(wide, le, 2, 1);           /* PT_LOAD only: static */
			CHECK(fd >= 0 && server_install_elf_static(fd) == 1);
			close(fd);
			fd = elf_file(wide, le, 2, 3);           /* PT_INTERP: dynamic */
			CHECK(fd >= 0 && server_install_elf_static(fd) == 0);
			close(fd);
		}
	fd = open("/proc/self/exe", O_RDONLY);           /* this test binary: glibc, dynamic */
	CHECK(fd >= 0 && server_install_elf_static(fd) == 0);
	close(fd);
	fd = open("/etc/passwd", O_RDONLY);              /* not ELF */
	CHECK(fd >= 0 && server_install_elf_static(fd) == -1);
	close(fd);
	fd = elf_file(1, 1, 2, 1);
	CHECK(fd >= 0 && ftruncate(fd, 70) == 0 && server_install_elf_static(fd) == -1);  /* cut short */
	close(fd);
}
