/* tls.c - TLS entry points (see tls.h): BearSSL's engines pumped over
 * non-blocking sockets, certificate and key loading, and the client's
 * verification policy (CA chain and host name, --pin, --insecure).
 *
 * TLS 1.2 only (BearSSL has no 1.3).  Verification is br_x509_minimal,
 * wrapped in a small br_x509_class (struct verifier) that also keeps the
 * server's own certificate: its DER gives the SubjectPublicKeyInfo for
 * --pin (RFC 7469 / curl --pinnedpubkey form) and its iPAddress names
 * (RFC 5280 4.2.1.6) when the server is dialled by IP, which BearSSL does
 * not check itself.
 *
 * Without NESTD_TLS only plain-socket I/O remains, and a clear refusal. */
#include "tls.h"
#include "fmt.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if NESTD_TLS
#include <arpa/inet.h>
#include <bearssl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "base64.h"
#include "config.h"
#include "log.h"
#include "rnd.h"
#include "sha256.h"
#include "num.h"
#include "out.h"

/* ------------------------------------------------------------------ */
/* Contexts */

struct tls_conn;
struct sess_cache;

struct tls_ctx {
	/* Sets up one connection for this role.  Set by tls_client_ctx or
	 * tls_server_ctx, so a build that never makes a server context (the
	 * agent-only binary) links no server-side BearSSL at all. */
	int (*conn_init)(struct tls_ctx *x, struct tls_conn *t, const char *host);
	/* client */
	br_x509_trust_anchor *ta;
	size_t nta;
	int insecure;
	int npins;
	unsigned char pins[CFG_TLS_MAX_PINS][32];
	br_ssl_session_parameters resume;   /* the last session, offered again */
	int can_resume;
	char resume_host[256];          /* ...only to the name it was made with */
	/* server */
	br_x509_certificate *chain;
	size_t nchain;
	br_skey_decoder_context key;    /* holds the private key's bytes */
	int key_type;                   /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	unsigned issuer_type;           /* key type of the certificate's signer */
	struct sess_cache *cache;       /* sessions for resumption */
};

/* The client's certificate policy, in front of br_x509_minimal. */
struct verifier {
	const br_x509_class *vtable;     /* first: BearSSL calls through it */
	br_x509_minimal_context minimal;
	br_x509_decoder_context dec;     /* the server's certificate, for its key */
	const struct tls_ctx *x;
	int depth;
	unsigned chain_err;              /* br_x509_minimal's verdict */
	int accepted_by;                 /* 0: the chain, 1: the pin, 2: --insecure */
	char why[200];                   /* our own refusal, if any */
	unsigned char ip[16];            /* the server was dialled by this address */
	size_t iplen;
	char host[256];
	size_t ee_len;
	int ee_over;
	unsigned char ee[CFG_TLS_MAX_EE_CERT];
};

struct tls_conn {
	struct tls_ctx *x;
	br_ssl_engine_context *eng;
	br_ssl_client_context *cc;
	br_ssl_server_context *sc;
	struct verifier *v;
	unsigned char *iobuf;
	int hs_done, eof;
	int server;
	char why[256];
};

static int client_init(struct tls_ctx *x, struct tls_conn *t, const char *host);
static int server_init(struct tls_ctx *x, struct tls_conn *t, const char *host);
static struct sess_cache *sess_cache_new(void);
static void sess_cache_free(struct sess_cache *c);

int tls_available(void)
{
	return 1;
}

/* A growing byte string, for the PEM and X.509 decoders' callbacks. */
struct blob {
	unsigned char *p;
	size_t n, cap;
	int oom;
};

static void blob_add(void *ctx, const void *d, size_t n)
{
	struct blob *b = ctx;

	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		unsigned char *q;

		while (cap < b->n + n)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static int read_file(const char *path, struct blob *b, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	memset(b, 0, sizeof(*b));
	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CFG_TLS_MAX_PEM) {
		fmt_snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 CFG_TLS_MAX_PEM);
		close(fd);
		return -1;
	}
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fmt_snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			close(fd);
			if (b->oom) {
				fmt_snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			return 0;
		}
		if (b->n + (size_t)r > CFG_TLS_MAX_PEM) {
			fmt_snprintf(err, errlen, "%s: larger than %u bytes", path, CFG_TLS_MAX_PEM);
			break;
		}
		blob_add(b, chunk, (size_t)r);
	}
	close(fd);
	free(b->p);
	b->p = NULL;
	return -1;
}

/* Calls each(name, der, len, arg) for every PEM object of the file; the
 * callback returns -1 to stop with its own message in err.  Returns the
 * number of objects, or -1. */
static int pem_each(const char *path,
		    int (*each)(const char *name, const unsigned char *der, size_t len,
				void *arg, char *err, size_t errlen),
		    void *arg, char *err, size_t errlen)
{
	br_pem_decoder_context pc;
	struct blob file, obj;
	char name[128] = "";
	const unsigned char *p;
	size_t n;
	int inobj = 0, count = 0, rc = -1, fed_nl = 0;

	if (read_file(path, &file, err, errlen) < 0)
		return -1;
	memset(&obj, 0, sizeof(obj));
	br_pem_decoder_init(&pc);
	p = file.p;
	n = file.n;
	/* A final newline lets the decoder see a last line that has none. */
	while (n > 0 || !fed_nl) {
		size_t used;
		int ev;

		if (n == 0) {
			p = (const unsigned char *)"\n";
			n = 1;
			fed_nl = 1;
		}
		used = br_pem_decoder_push(&pc, p, n);
		p += used;
		n -= used;
		ev = br_pem_decoder_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ) {
			fmt_snprintf(name, sizeof(name), "%s", br_pem_decoder_name(&pc));
			obj.n = 0;
			br_pem_decoder_setdest(&pc, blob_add, &obj);
			inobj = 1;
		} else if (ev == BR_PEM_END_OBJ) {
			inobj = 0;
			if (obj.oom) {
				fmt_snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			if (each(name, obj.p, obj.n, arg, err, errlen) < 0)
				goto out;
			count++;
		} else if (ev == BR_PEM_ERROR) {
			fmt_snprintf(err, errlen, "%s: cannot parse: not valid PEM", path);
			goto out;
		}
	}
	if (inobj) {
		fmt_snprintf(err, errlen, "%s: cannot parse: PEM object not terminated", path);
		goto out;
	}
	rc = count;
out:
	if (obj.p)
		memset(obj.p, 0, obj.cap);
	free(obj.p);
	memset(file.p, 0, file.n);
	free(file.p);
	return rc;
}

static void *memdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* Copies the key of a decoded certificate into ta (which then owns it). */
static int copy_pkey(const br_x509_pkey *pk, br_x509_pkey *out)
{
	*out = *pk;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		out->key.rsa.n = memdup(pk->key.rsa.n, pk->key.rsa.nlen);
		out->key.rsa.e = memdup(pk->key.rsa.e, pk->key.rsa.elen);
		return out->key.rsa.n && out->key.rsa.e ? 0 : -1;
	}
	if (pk->key_type == BR_KEYTYPE_EC) {
		out->key.ec.q = memdup(pk->key.ec.q, pk->key.ec.qlen);
		return out->key.ec.q ? 0 : -1;
	}
	return -1;
}

static void free_ta(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
		free(ta->pkey.key.ec.q);
	}
}

struct ta_list {
	br_x509_trust_anchor *ta;
	size_t n, cap;
	int skipped;
};

static int add_anchor(const char *name, const unsigned char *der, size_t len, void *arg,
		      char *err, size_t errlen)
{
	struct ta_list *l = arg;
	br_x509_decoder_context dc;
	struct blob dn;
	const br_x509_pkey *pk;
	br_x509_trust_anchor ta;

	if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE") &&
	    strcmp(name, "TRUSTED CERTIFICATE"))
		return 0;
	memset(&dn, 0, sizeof(dn));
	br_x509_decoder_init(&dc, blob_add, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.oom) {
		/* A key type BearSSL does not know (Ed25519...): not ours to judge. */
		free(dn.p);
		l->skipped++;
		return 0;
	}
	memset(&ta, 0, sizeof(ta));
	ta.dn.data = dn.p;
	ta.dn.len = dn.n;
	ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	if (copy_pkey(pk, &ta.pkey) < 0)
		goto oom;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		br_x509_trust_anchor *q = realloc(l->ta, cap * sizeof(*q));

		if (!q)
			goto oom;
		l->ta = q;
		l->cap = cap;
	}
	l->ta[l->n++] = ta;
	return 0;
oom:
	free_ta(&ta);
	fmt_snprintf(err, errlen, "out of memory");
	return -1;
}

/* "sha256//BASE64[;sha256//BASE64...]" */
static int parse_pins(struct tls_ctx *x, const char *s, char *err, size_t errlen)
{
	while (*s) {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		unsigned char h[40];

		if (len < 8 || strncmp(s, "sha256//", 8) != 0 || x->npins == CFG_TLS_MAX_PINS ||
		    base64_decode(s + 8, len - 8, h, sizeof(h)) != 32) {
			fmt_snprintf(err, errlen, "bad --pin '%.*s': want sha256//BASE64 (the SHA-256 of "
				 "the server's public key, 44 characters of base64)", (int)len, s);
			return -1;
		}
		memcpy(x->pins[x->npins++], h, 32);
		s += len;
		if (*s == ';')
			s++;
	}
	if (!x->npins) {
		fmt_snprintf(err, errlen, "bad --pin: empty");
		return -1;
	}
	return 0;
}

struct tls_ctx *tls_client_ctx(const struct tls_client_opts *o, char *err, size_t errlen)
{
	struct tls_ctx *x = calloc(1, sizeof(*x));
	struct ta_list l;
	const char *file = o->ca_file ? o->ca_file : CFG_TLS_CA_FILE;

	if (!x) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->conn_init = client_init;
	x->insecure = o->insecure;
	if (o->pin && *o->pin && parse_pins(x, o->pin, err, errlen) < 0)
		goto fail;
	/* A pin (or --insecure) needs no CA: read the system's bundle only
	 * when it decides, so a pinned agent works where none is installed. */
	if ((x->npins || x->insecure) && !o->ca_file)
		return x;
	memset(&l, 0, sizeof(l));
	if (pem_each(file, add_anchor, &l, err, errlen) < 0) {
		x->ta = l.ta;
		x->nta = l.n;
		goto fail;
	}
	x->ta = l.ta;
	x->nta = l.n;
	if (!x->nta) {
		fmt_snprintf(err, errlen, "%s: no usable CA certificate", file);
		goto fail;
	}
	return x;
fail:
	tls_ctx_free(x);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* A little DER, for what BearSSL's decoder does not hand out. */

/* One TLV at p[0..n): its tag, header length and content length. */
static int der_tlv(const unsigned char *p, size_t n, unsigned *tag, size_t *hl, size_t *cl)
{
	size_t i = 2, len;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	len = p[1];
	if (len & 0x80) {
		unsigned k = len & 0x7f;

		if (k == 0 || k > 3 || n < 2 + k)
			return -1;
		for (len = 0; k; k--)
			len = (len << 8) | p[i++];
	}
	if (len > n - i)
		return -1;
	*hl = i;
	*cl = len;
	return 0;
}

/* The TBSCertificate's fields after the version: serial, signature,
 * issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3]
 * (RFC 5280 4.1).  Finds the SPKI (whole TLV) and the [3] extensions. */
static int der_cert_parts(const unsigned char *der, size_t n,
			  const unsigned char **spki, size_t *spki_len,
			  const unsigned char **ext, size_t *ext_len)
{
	unsigned tag;
	size_t hl, cl, i = 0;
	const unsigned char *t;
	size_t tn;
	int field = 0;

	*ext = NULL;
	*ext_len = 0;
	if (der_tlv(der, n, &tag, &hl, &cl) < 0 || tag != 0x30)
		return -1;
	t = der + hl;
	if (der_tlv(t, cl, &tag, &hl, &cl) < 0 || tag != 0x30)
		return -1;
	t += hl;
	tn = cl;
	while (i < tn) {
		if (der_tlv(t + i, tn - i, &tag, &hl, &cl) < 0)
			return -1;
		if (field == 0 && tag == 0xa0) {
			i += hl + cl;
			continue;
		}
		if (field == 5) {
			if (tag != 0x30)
				return -1;
			*spki = t + i;
			*spki_len = hl + cl;
		} else if (field > 5 && tag == 0xa3) {
			*ext = t + i + hl;
			*ext_len = cl;
		}
		field++;
		i += hl + cl;
	}
	return field > 5 ? 0 : -1;
}

/* Does the subjectAltName extension list this IP address? */
static int der_has_ip(const unsigned char *ext, size_t n, const unsigned char *ip, size_t iplen)
{
	static const unsigned char san_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
	unsigned tag;
	size_t hl, cl, i = 0;

	if (!ext || der_tlv(ext, n, &tag, &hl, &cl) < 0 || tag != 0x30)
		return 0;
	ext += hl;
	n = cl;
	while (i < n) {
		const unsigned char *e;
		size_t en, j;

		if (der_tlv(ext + i, n - i, &tag, &hl, &cl) < 0)
			return 0;
		e = ext + i + hl;
		en = cl;
		i += hl + cl;
		if (en < sizeof(san_oid) || memcmp(e, san_oid, sizeof(san_oid)) != 0)
			continue;
		j = sizeof(san_oid);
		while (j < en) {        /* critical BOOLEAN, then the OCTET STRING */
			if (der_tlv(e + j, en - j, &tag, &hl, &cl) < 0)
				return 0;
			if (tag == 0x04) {
				const unsigned char *g = e + j + hl;
				size_t gn = cl, k = 0;

				if (der_tlv(g, gn, &tag, &hl, &cl) < 0 || tag != 0x30)
					return 0;
				g += hl;
				gn = cl;
				while (k < gn) {
					if (der_tlv(g + k, gn - k, &tag, &hl, &cl) < 0)
						return 0;
					if (tag == 0x87 && cl == iplen && !memcmp(g + k + hl, ip, iplen))
						return 1;
					k += hl + cl;
				}
				return 0;
			}
			j += hl + cl;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The client's verifier */

static struct verifier *V(const br_x509_class **ctx)
{
	return (struct verifier *)(void *)ctx;
}

static void v_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct verifier *v = V(ctx);

	v->depth = 0;
	v->ee_len = 0;
	v->ee_over = 0;
	v->chain_err = 0;
	v->accepted_by = 0;
	v->why[0] = '\0';
	v->minimal.vtable->start_chain(&v->minimal.vtable, server_name);
}

static void v_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct verifier *v = V(ctx);

	if (v->depth == 0) {
		br_x509_decoder_init(&v->dec, NULL, NULL);
		v->ee_over = length > sizeof(v->ee);
	}
	v->minimal.vtable->start_cert(&v->minimal.vtable, length);
}

static void v_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct verifier *v = V(ctx);

	if (v->depth == 0) {
		br_x509_decoder_push(&v->dec, buf, len);
		if (!v->ee_over && len <= sizeof(v->ee) - v->ee_len) {
			memcpy(v->ee + v->ee_len, buf, len);
			v->ee_len += len;
		} else {
			v->ee_over = 1;
		}
	}
	v->minimal.vtable->append(&v->minimal.vtable, buf, len);
}

static void v_end_cert(const br_x509_class **ctx)
{
	struct verifier *v = V(ctx);

	v->minimal.vtable->end_cert(&v->minimal.vtable);
	v->depth++;
}

static int pin_matches(struct verifier *v)
{
	const unsigned char *spki, *ext;
	size_t spki_len, ext_len;
	unsigned char h[32];
	char b64[BASE64_LEN(32) + 1];
	int i;

	if (v->ee_over || der_cert_parts(v->ee, v->ee_len, &spki, &spki_len, &ext, &ext_len) < 0) {
		fmt_snprintf(v->why, sizeof(v->why), "cannot read the server certificate's public key "
			 "to check --pin");
		return 0;
	}
	sha256(spki, spki_len, h);
	for (i = 0; i < v->x->npins; i++)
		if (!memcmp(h, v->x->pins[i], 32))
			return 1;
	b64[base64_encode(h, 32, b64)] = '\0';
	fmt_snprintf(v->why, sizeof(v->why), "server public key does not match --pin "
		 "(the server's is sha256//%s)", b64);
	return 0;
}

static unsigned v_end_chain(const br_x509_class **ctx)
{
	struct verifier *v = V(ctx);
	unsigned err = v->minimal.vtable->end_chain(&v->minimal.vtable);

	if (err == 0 && v->iplen) {
		const unsigned char *spki, *ext;
		size_t spki_len, ext_len;

		if (v->ee_over ||
		    der_cert_parts(v->ee, v->ee_len, &spki, &spki_len, &ext, &ext_len) < 0 ||
		    !der_has_ip(ext, ext_len, v->ip, v->iplen))
			err = BR_ERR_X509_BAD_SERVER_NAME;
	}
	v->chain_err = err;
	if (v->x->insecure) {
		v->accepted_by = 2;
		return br_x509_decoder_get_pkey(&v->dec) ? 0 : BR_ERR_X509_UNSUPPORTED;
	}
	if (v->x->npins) {
		if (!br_x509_decoder_get_pkey(&v->dec) || !pin_matches(v))
			return BR_ERR_X509_NOT_TRUSTED;
		v->accepted_by = 1;
		return 0;
	}
	return err;
}

static const br_x509_pkey *v_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct verifier *v = (struct verifier *)(void *)ctx;

	if (v->accepted_by == 0)
		return v->minimal.vtable->get_pkey(&v->minimal.vtable, usages);
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&v->dec);
}

static const br_x509_class verifier_vtable = {
	sizeof(struct verifier),
	v_start_chain,
	v_start_cert,
	v_append,
	v_end_cert,
	v_end_chain,
	v_get_pkey,
};

/* ------------------------------------------------------------------ */
/* Server context */

struct server_load {
	struct tls_ctx *x;
	int keys;
	const char *path;
};

static int add_chain_cert(const char *name, const unsigned char *der, size_t len, void *arg,
			  char *err, size_t errlen)
{
	struct tls_ctx *x = arg;
	br_x509_certificate *q;

	if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE"))
		return 0;
	q = realloc(x->chain, (x->nchain + 1) * sizeof(*q));
	if (!q) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->chain = q;
	q[x->nchain].data = memdup(der, len);
	q[x->nchain].data_len = len;
	if (!q[x->nchain].data) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->nchain++;
	return 0;
}

static int add_key(const char *name, const unsigned char *der, size_t len, void *arg,
		   char *err, size_t errlen)
{
	struct server_load *sl = arg;
	int e;

	if (strcmp(name, "RSA PRIVATE KEY") && strcmp(name, "EC PRIVATE KEY") &&
	    strcmp(name, "PRIVATE KEY"))
		return 0;
	if (sl->keys++) {
		fmt_snprintf(err, errlen, "%s: more than one private key", sl->path);
		return -1;
	}
	br_skey_decoder_init(&sl->x->key);
	br_skey_decoder_push(&sl->x->key, der, len);
	e = br_skey_decoder_last_error(&sl->x->key);
	if (e) {
		fmt_snprintf(err, errlen, "%s: cannot parse the private key (%s; BearSSL error %d)",
			 sl->path, e == BR_ERR_X509_UNSUPPORTED ? "unsupported key type" : "malformed", e);
		return -1;
	}
	sl->x->key_type = br_skey_decoder_key_type(&sl->x->key);
	return 0;
}

/* One elliptic-curve implementation for ECDHE, ECDSA and the key check.
 * The agent-only binary (make static-agent, sized for initramfs images):
 * the generic i31 code for P-256, P-384 and P-521, no Curve25519 (every
 * TLS 1.2 server offers P-256, RFC 8422 5.1.1).  The full one: BearSSL's
 * fast P-256 and Curve25519 code beside it.  (Curve25519 costs ~3.5 KB;
 * without it browsers and agents fall back to P-256, and a server's full
 * handshakes cost a third more CPU: bench/bench_storm.sh.) */
#if NESTD_AGENT_ONLY
#define EC_IMPL (&br_ec_prime_i31)
#else
#define EC_IMPL (&br_ec_all_m31)
#endif

/* Does the private key belong to the certificate's public key? */
static int key_matches(struct tls_ctx *x, const br_x509_pkey *pk)
{
	if (x->key_type == BR_KEYTYPE_RSA && pk->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&x->key);
		br_rsa_compute_modulus mod = br_rsa_compute_modulus_get_default();
		size_t nlen = mod(NULL, sk), i = 0, j = 0;
		unsigned char *n = malloc(nlen ? nlen : 1);
		int ok;

		if (!n || mod(n, sk) != nlen) {
			free(n);
			return 0;
		}
		while (i < nlen && !n[i])
			i++;
		while (j < pk->key.rsa.nlen && !pk->key.rsa.n[j])
			j++;
		ok = nlen - i == pk->key.rsa.nlen - j && !memcmp(n + i, pk->key.rsa.n + j, nlen - i);
		free(n);
		return ok;
	}
	if (x->key_type == BR_KEYTYPE_EC && pk->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(&x->key);
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pub;
		size_t qlen = br_ec_compute_pub(EC_IMPL, &pub, q, sk);

		return qlen && sk->curve == pk->key.ec.curve && qlen == pk->key.ec.qlen &&
		       !memcmp(q, pk->key.ec.q, qlen);
	}
	return 0;
}

struct tls_ctx *tls_server_ctx(const char *cert_file, const char *key_file,
			       char *err, size_t errlen)
{
	struct tls_ctx *x = calloc(1, sizeof(*x));
	struct server_load sl;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	if (!x) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->conn_init = server_init;
	x->cache = sess_cache_new();
	if (!x->cache) {
		fmt_snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pem_each(cert_file, add_chain_cert, x, err, errlen) < 0)
		goto fail;
	if (!x->nchain) {
		fmt_snprintf(err, errlen, "%s: cannot parse: no PEM CERTIFICATE in it", cert_file);
		goto fail;
	}
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, x->chain[0].data, x->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk) {
		fmt_snprintf(err, errlen, "%s: cannot parse the certificate (BearSSL error %d)",
			 cert_file, br_x509_decoder_last_error(&dc));
		goto fail;
	}
	x->issuer_type = br_x509_decoder_get_signer_key_type(&dc);
	sl.x = x;
	sl.keys = 0;
	sl.path = key_file;
	if (pem_each(key_file, add_key, &sl, err, errlen) < 0)
		goto fail;
	if (!sl.keys) {
		fmt_snprintf(err, errlen, "%s: cannot parse: no PEM private key in it "
			 "(RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)", key_file);
		goto fail;
	}
	if (!key_matches(x, pk)) {
		fmt_snprintf(err, errlen, "%s does not match the certificate in %s", key_file, cert_file);
		goto fail;
	}
	return x;
fail:
	tls_ctx_free(x);
	return NULL;
}

void tls_ctx_free(struct tls_ctx *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->nta; i++)
		free_ta(&x->ta[i]);
	free(x->ta);
	for (i = 0; i < x->nchain; i++)
		free(x->chain[i].data);
	free(x->chain);
	memset(&x->key, 0, sizeof(x->key));
	memset(&x->resume, 0, sizeof(x->resume));
	sess_cache_free(x->cache);
	free(x);
}

/* ------------------------------------------------------------------ */
/* The server's session cache (RFC 5246 7.3: a returning client names its
 * session and both ends skip the public-key work).
 *
 * BearSSL's own LRU cache keeps its entries in a layout of its own; this
 * one is a table of plain records, CFG_TLS_SESSION_CACHE of them in sets
 * of SESS_WAYS (a full set drops its oldest), so that the server can write
 * it to its state directory when it stops and read it back when it starts:
 * agents that come back after a restart resume their sessions instead of
 * each costing a signature and an ECDH.  BearSSL draws the session IDs (32
 * random bytes), so their first bytes are a hash already.  The calloc'd
 * table costs memory only as it fills. */

#define SESS_WAYS 8

struct sess {
	unsigned char id[32];
	unsigned char ms[48];
	uint16_t version, suite;
	uint32_t saved;          /* epoch seconds; 0: an empty slot */
};

struct sess_cache {
	const br_ssl_session_cache_class *vtable;   /* first: BearSSL calls through it */
	struct sess *slot;
	size_t nsets;
	unsigned long hits, misses;
};

static struct sess *sess_set(struct sess_cache *c, const unsigned char *id)
{
	size_t h = (size_t)id[0] | (size_t)id[1] << 8 | (size_t)id[2] << 16 | (size_t)id[3] << 24;

	return c->slot + (h & (c->nsets - 1)) * SESS_WAYS;
}

static int sess_fresh(const struct sess *e, uint32_t now)
{
	return e->saved && now - e->saved < CFG_TLS_SESSION_LIFETIME_S;
}

static void sess_put(struct sess_cache *c, const struct sess *e)
{
	struct sess *set = sess_set(c, e->id), *victim = set;
	int i;

	for (i = 0; i < SESS_WAYS; i++) {
		if (!memcmp(set[i].id, e->id, 32) || !set[i].saved) {
			victim = &set[i];
			break;
		}
		if (set[i].saved < victim->saved)
			victim = &set[i];
	}
	*victim = *e;
}

static void sess_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
		      const br_ssl_session_parameters *p)
{
	struct sess e;

	memcpy(e.id, p->session_id, 32);
	memcpy(e.ms, p->master_secret, 48);
	e.version = p->version;
	e.suite = p->cipher_suite;
	e.saved = (uint32_t)time(NULL);
	sess_put((struct sess_cache *)(void *)ctx, &e);
	memset(&e, 0, sizeof(e));
}

static int sess_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
		     br_ssl_session_parameters *p)
{
	struct sess_cache *c = (struct sess_cache *)(void *)ctx;
	struct sess *set = sess_set(c, p->session_id);
	uint32_t now = (uint32_t)time(NULL);
	int i;

	for (i = 0; i < SESS_WAYS; i++) {
		if (sess_fresh(&set[i], now) && !memcmp(set[i].id, p->session_id, 32)) {
			memcpy(p->master_secret, set[i].ms, 48);
			p->version = set[i].version;
			p->cipher_suite = set[i].suite;
			c->hits++;
			return 1;
		}
	}
	c->misses++;
	return 0;
}

static const br_ssl_session_cache_class sess_vtable = {
	sizeof(struct sess_cache), sess_save, sess_load
};

static struct sess_cache *sess_cache_new(void)
{
	struct sess_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nsets = CFG_TLS_SESSION_CACHE / SESS_WAYS;
	c->slot = calloc(c->nsets * SESS_WAYS, sizeof(*c->slot));
	if (!c->slot) {
		free(c);
		return NULL;
	}
	c->vtable = &sess_vtable;
	return c;
}

static void sess_cache_free(struct sess_cache *c)
{
	if (!c)
		return;
	memset(c->slot, 0, c->nsets * SESS_WAYS * sizeof(*c->slot));
	free(c->slot);
	free(c);
}

/* The file: a header line naming the record size, then the records as they
 * are in memory (only ever read back by the same binary on the same
 * machine), mode 0600 like the token file beside it. */
#define SESS_MAGIC "nestd-tls-sessions 1 "

int tls_sessions_save(struct tls_ctx *x, const char *path, char *err, size_t errlen)
{
	char tmp[4096], head[64], b[sizeof(struct sess) * 46];
	uint32_t now = (uint32_t)time(NULL);
	size_t i, n = 0;
	struct out f;
	int fd, hl, ok;

	if (!x || !x->cache)
		return 0;
	fmt_snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	out_init(&f, fd, b, sizeof(b));
	hl = fmt_snprintf(head, sizeof(head), SESS_MAGIC "%zu\n", sizeof(struct sess));
	ok = out_write(&f, head, (size_t)hl) == 0;
	for (i = 0; ok && i < x->cache->nsets * SESS_WAYS; i++) {
		const struct sess *e = &x->cache->slot[i];

		if (sess_fresh(e, now)) {
			ok = out_write(&f, e, sizeof(*e)) == 0;
			n++;
		}
	}
	ok = out_flush(&f) == 0 && ok;
	memset(b, 0, sizeof(b));            /* the master secrets passed through */
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		fmt_snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return (int)n;
}

/* The file's records after its header want (as fread took them: whole
 * records, a cut one at the end left out) into c: how many were fresh.
 * -1 when the file does not start with want. */
static int sess_read(struct sess_cache *c, int fd, const char *want, uint32_t now)
{
	unsigned char b[sizeof(struct sess) * 46];
	size_t have = 0, at, wl = strlen(want);
	int n = 0, head = 0;
	struct sess e;
	ssize_t r;

	for (;;) {
		r = read(fd, b + have, sizeof(b) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		at = 0;
		if (!head) {
			if (have < wl)
				continue;
			if (memcmp(b, want, wl))
				break;
			head = 1;
			at = wl;
		}
		for (; have - at >= sizeof(e); at += sizeof(e)) {
			memcpy(&e, b + at, sizeof(e));
			if (sess_fresh(&e, now) && e.version == BR_TLS12) {
				sess_put(c, &e);
				n++;
			}
		}
		memmove(b, b + at, have - at);
		have -= at;
	}
	memset(&e, 0, sizeof(e));
	memset(b, 0, sizeof(b));
	return head ? n : -1;
}

int tls_sessions_load(struct tls_ctx *x, const char *path, char *err, size_t errlen)
{
	char want[64];
	int fd, n;

	if (!x || !x->cache)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		fmt_snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* Used once: the secrets do not outlive the restart they bridge. */
	unlink(path);
	fmt_snprintf(want, sizeof(want), SESS_MAGIC "%zu\n", sizeof(struct sess));
	n = sess_read(x->cache, fd, want, (uint32_t)time(NULL));
	close(fd);
	if (n < 0)
		fmt_snprintf(err, errlen, "%s: not a session file of this nestd; ignored", path);
	return n;
}

void tls_sessions_stats(const struct tls_ctx *x, unsigned long *resumed, unsigned long *full)
{
	*resumed = x && x->cache ? x->cache->hits : 0;
	*full = x && x->cache ? x->cache->misses : 0;
}

/* ------------------------------------------------------------------ */
/* Profiles: BearSSL's "full" ones (br_ssl_*_init_full*) minus what TLS 1.2
 * with forward secrecy and an AEAD never uses: no TLS 1.0/1.1 (MD5, their
 * PRF), no RSA or static ECDH key exchange, no CBC, CCM or 3DES.  What is
 * left is what every current client and server offers first: ECDHE with
 * ECDSA or RSA signatures, ChaCha20-Poly1305 or AES-GCM,
 * SHA-224 to SHA-512 for signatures.  ~30 KB less BearSSL in the static
 * binary. */

static const uint16_t suites_ecdsa[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};
static const uint16_t suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};
static const uint16_t suites_client[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* Hashes, PRFs and ciphers common to both ends; xc: also the X.509 engine's
 * hashes.  SHA-224 to SHA-512: no SHA-1 (TLS 1.2 signs with SHA-256 and up,
 * and a chain signed with SHA-1 is refused by every browser already).
 * AES-GCM on BearSSL's portable constant-time code (aes_ct64, ctmul64) in
 * both builds, not the AES-NI/PCLMUL code beside it (~4 KB): the server
 * prefers ChaCha20-Poly1305 (engine_common), which every browser, openssl
 * and nestd's own clients offer, so AES-GCM carries only what a peer
 * without ChaCha20 sends (Slack's API); ~100 MB/s a core is plenty there.
 * ChaCha20-Poly1305: the portable code in the agent-only binary (sized for
 * initramfs images), the SSE2 code in the full one, where the storm of
 * reconnecting agents runs through it. */
static void profile_common(br_ssl_engine_context *eng, br_x509_minimal_context *xc)
{
	static const br_hash_class *const hashes[] = {
		&br_sha224_vtable, &br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable
	};
	int id;

	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	for (id = br_sha224_ID; id <= br_sha512_ID; id++) {
		br_ssl_engine_set_hash(eng, id, hashes[id - br_sha224_ID]);
		if (xc)
			br_x509_minimal_set_hash(xc, id, hashes[id - br_sha224_ID]);
	}
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_ec(eng, EC_IMPL);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul64);
#if NESTD_AGENT_ONLY
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);
#else
	br_ssl_engine_set_default_chapol(eng);
#endif
}

#if NESTD_AGENT_ONLY
#define RSA_VRFY br_rsa_i31_pkcs1_vrfy
#else
#define RSA_VRFY br_rsa_pkcs1_vrfy_get_default()
#endif

static void profile_client(br_ssl_client_context *cc, br_x509_minimal_context *xc,
			   const br_x509_trust_anchor *ta, size_t nta)
{
	br_ssl_client_zero(cc);
	br_x509_minimal_init(xc, &br_sha256_vtable, ta, nta);
	br_ssl_engine_set_suites(&cc->eng, suites_client, sizeof(suites_client) / sizeof(suites_client[0]));
	profile_common(&cc->eng, xc);
	br_ssl_engine_set_rsavrfy(&cc->eng, RSA_VRFY);
	br_ssl_engine_set_ecdsa(&cc->eng, &br_ecdsa_i31_vrfy_asn1);
	br_x509_minimal_set_rsa(xc, RSA_VRFY);
	br_x509_minimal_set_ecdsa(xc, EC_IMPL, &br_ecdsa_i31_vrfy_asn1);
	br_ssl_engine_set_x509(&cc->eng, &xc->vtable);
}

static void profile_server_rsa(br_ssl_server_context *sc, const br_x509_certificate *chain,
			       size_t n, const br_rsa_private_key *sk)
{
	br_ssl_server_zero(sc);
	br_ssl_engine_set_suites(&sc->eng, suites_rsa, sizeof(suites_rsa) / sizeof(suites_rsa[0]));
	br_ssl_server_set_single_rsa(sc, chain, n, sk, BR_KEYTYPE_SIGN, br_rsa_private_get_default(),
				     br_rsa_pkcs1_sign_get_default());
	profile_common(&sc->eng, NULL);
}

static void profile_server_ec(br_ssl_server_context *sc, const br_x509_certificate *chain,
			      size_t n, unsigned issuer_type, const br_ec_private_key *sk)
{
	br_ssl_server_zero(sc);
	br_ssl_engine_set_suites(&sc->eng, suites_ecdsa, sizeof(suites_ecdsa) / sizeof(suites_ecdsa[0]));
	br_ssl_server_set_single_ec(sc, chain, n, sk, BR_KEYTYPE_SIGN, issuer_type,
				    EC_IMPL, br_ecdsa_sign_asn1_get_default());
	profile_common(&sc->eng, NULL);
}

/* ------------------------------------------------------------------ */
/* Connections */

/* What both roles set on a fresh engine: TLS 1.2 only, no renegotiation,
 * fresh entropy. */
static void engine_common(struct tls_conn *t)
{
	unsigned char seed[32];

	br_ssl_engine_set_versions(t->eng, BR_TLS12, BR_TLS12);
	/* The server's order of suites, ChaCha20-Poly1305 first, not the
	 * client's: browsers put AES-GCM first where the CPU has AES-NI,
	 * whose code nestd leaves out (profile_common). */
	br_ssl_engine_add_flags(t->eng, BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES);
	if (rnd_bytes(seed, sizeof(seed)) == 0)
		br_ssl_engine_inject_entropy(t->eng, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
}

/* The server's half.  One buffer for both directions (BR_SSL_BUFSIZE_MONO):
 * half the memory per peer; the pump below never leaves it stuck. */
static int server_init(struct tls_ctx *x, struct tls_conn *t, const char *host)
{
	t->sc = calloc(1, sizeof(*t->sc));
	t->iobuf = malloc(BR_SSL_BUFSIZE_MONO);
	if (!t->sc || !t->iobuf)
		return -1;
	t->eng = &t->sc->eng;
	if (x->key_type == BR_KEYTYPE_RSA)
		profile_server_rsa(t->sc, x->chain, x->nchain, br_skey_decoder_get_rsa(&x->key));
	else
		profile_server_ec(t->sc, x->chain, x->nchain, x->issuer_type,
				  br_skey_decoder_get_ec(&x->key));
	br_ssl_engine_set_buffer(t->eng, t->iobuf, BR_SSL_BUFSIZE_MONO, 0);
	if (x->cache)
		br_ssl_server_set_cache(t->sc, &x->cache->vtable);
	engine_common(t);
	t->server = 1;
	br_ssl_server_reset(t->sc);
	return 0;
}


/* The client's half: a verifier in front of br_x509_minimal, and the last
 * session's parameters offered again, so a reconnecting agent costs the
 * server no public-key operation (RFC 5246 7.3, an abbreviated handshake). */
static int client_init(struct tls_ctx *x, struct tls_conn *t, const char *host)
{
	struct verifier *v;
	int resume;

	t->cc = calloc(1, sizeof(*t->cc));
	t->v = v = calloc(1, sizeof(*t->v));
	t->iobuf = malloc(BR_SSL_BUFSIZE_BIDI);
	if (!t->cc || !t->v || !t->iobuf)
		return -1;
	t->eng = &t->cc->eng;
	profile_client(t->cc, &v->minimal, x->ta, x->nta);
	v->vtable = &verifier_vtable;
	v->x = x;
	fmt_snprintf(v->host, sizeof(v->host), "%s", host ? host : "");
	if (num_pton(AF_INET, v->host, v->ip) == 1)
		v->iplen = 4;
	else if (num_pton(AF_INET6, v->host, v->ip) == 1)
		v->iplen = 16;
	br_ssl_engine_set_x509(t->eng, &v->vtable);
	br_ssl_engine_set_buffer(t->eng, t->iobuf, BR_SSL_BUFSIZE_BIDI, 1);
	engine_common(t);
	/* A session is offered again only to the name whose certificate it
	 * was made with: resuming skips the certificate. */
	resume = x->can_resume && !strcmp(x->resume_host, v->host);
	if (resume)
		br_ssl_engine_set_session_parameters(t->eng, &x->resume);
	/* No SNI for an IP literal (RFC 6066 3); its name is checked
	 * against the iPAddress entries instead. */
	if (!br_ssl_client_reset(t->cc, v->iplen ? NULL : v->host, resume))
		return -1;
	if (x->insecure)
		log_warn("TLS: certificate verification is OFF (--insecure) for %s: "
			 "anyone on the path can read and change this connection", v->host);
	return 0;
}

struct tls_conn *tls_conn_new(struct tls_ctx *x, const char *host, char *err, size_t errlen)
{
	struct tls_conn *t = calloc(1, sizeof(*t));

	if (!t || (t->x = x)->conn_init(x, t, host) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		tls_conn_free(t);
		return NULL;
	}
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	free(t->cc);
	free(t->sc);
	free(t->v);
	free(t->iobuf);
	free(t);
}

static unsigned state(struct tls_conn *t)
{
	unsigned st = br_ssl_engine_current_state(t->eng);

	if (!t->hs_done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
		t->hs_done = 1;
		/* The client keeps the session for its next connection. */
		if (!t->server) {
			br_ssl_engine_get_session_parameters(t->eng, &t->x->resume);
			fmt_snprintf(t->x->resume_host, sizeof(t->x->resume_host), "%s", t->v->host);
			t->x->can_resume = 1;
		}
	}
	return st;
}


/* Hands one batch of records to the kernel: 1 progress, 0 would block or
 * none to send, -1 error. */
static int send_records(struct tls_conn *t, int fd)
{
	size_t len;
	unsigned char *b = br_ssl_engine_sendrec_buf(t->eng, &len);
	ssize_t w;

	if (!b || !len)
		return 0;
	do
		w = write(fd, b, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	br_ssl_engine_sendrec_ack(t->eng, (size_t)w);
	return 1;
}

static ssize_t closed(struct tls_conn *t)
{
	if (br_ssl_engine_last_error(t->eng) == BR_ERR_OK)
		return 0;
	errno = EPROTO;
	return -1;
}

ssize_t tls_read(struct tls_conn *t, int fd, void *p, size_t n)
{
	for (;;) {
		unsigned st = state(t);
		unsigned char *b;
		size_t len;
		ssize_t r;

		if (st & BR_SSL_CLOSED)
			return closed(t);
		if (st & BR_SSL_RECVAPP) {
			b = br_ssl_engine_recvapp_buf(t->eng, &len);
			if (len > n)
				len = n;
			memcpy(p, b, len);
			br_ssl_engine_recvapp_ack(t->eng, len);
			return (ssize_t)len;
		}
		if (st & BR_SSL_SENDREC) {
			int s = send_records(t, fd);

			if (s < 0)
				return -1;
			if (s > 0)
				continue;
		}
		if (t->eof)
			return 0;
		if (!(st & BR_SSL_RECVREC)) {
			errno = EAGAIN;
			return -1;
		}
		b = br_ssl_engine_recvrec_buf(t->eng, &len);
		do
			r = read(fd, b, len);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -1;
		if (r == 0) {
			t->eof = 1;
			if (t->hs_done)
				return 0;   /* no close_notify: WebSocket and HTTP frame themselves */
			fmt_snprintf(t->why, sizeof(t->why), "the peer closed the connection during the "
				 "TLS handshake");
			errno = EPROTO;
			return -1;
		}
		br_ssl_engine_recvrec_ack(t->eng, (size_t)r);
	}
}

ssize_t tls_write(struct tls_conn *t, int fd, const void *p, size_t n)
{
	size_t done = 0;

	for (;;) {
		unsigned st = state(t);
		unsigned char *b;
		size_t len;

		if (st & BR_SSL_CLOSED) {
			if (done)
				return (ssize_t)done;
			if (closed(t) == 0)
				errno = EPIPE;
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			int s = send_records(t, fd);

			if (s < 0)
				return done ? (ssize_t)done : -1;
			if (s > 0)
				continue;
			if (done)
				return (ssize_t)done;
			errno = EAGAIN;
			return -1;
		}
		if (done == n)
			return (ssize_t)done;
		if (!(st & BR_SSL_SENDAPP)) {
			/* Still in the handshake: its records come before any
			 * plaintext, so reading them here loses nothing. */
			if (!t->hs_done && !t->eof && (st & BR_SSL_RECVREC) && !(st & BR_SSL_RECVAPP)) {
				ssize_t r;

				b = br_ssl_engine_recvrec_buf(t->eng, &len);
				do
					r = read(fd, b, len);
				while (r < 0 && errno == EINTR);
				if (r > 0) {
					br_ssl_engine_recvrec_ack(t->eng, (size_t)r);
					continue;
				}
				if (r == 0) {
					t->eof = 1;
					fmt_snprintf(t->why, sizeof(t->why), "the peer closed the connection "
						 "during the TLS handshake");
					errno = EPROTO;
					return -1;
				}
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return -1;
			}
			if (done)
				return (ssize_t)done;
			errno = EAGAIN;
			return -1;
		}
		b = br_ssl_engine_sendapp_buf(t->eng, &len);
		if (len > n - done)
			len = n - done;
		memcpy(b, (const char *)p + done, len);
		br_ssl_engine_sendapp_ack(t->eng, len);
		done += len;
		if (done == n)
			br_ssl_engine_flush(t->eng, 0);
	}
}

int tls_flush(struct tls_conn *t, int fd)
{
	for (;;) {
		unsigned st = state(t);
		int s;

		if (!(st & BR_SSL_SENDREC))
			return 0;
		s = send_records(t, fd);
		if (s < 0)
			return -1;
		if (s == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

short tls_events(struct tls_conn *t, int have_output)
{
	unsigned st = state(t);
	short ev = 0;

	if (st & BR_SSL_CLOSED)
		return (st & BR_SSL_SENDREC) ? POLLOUT : 0;
	if (st & BR_SSL_SENDREC)
		ev |= POLLOUT;
	else if (have_output && (st & BR_SSL_SENDAPP))
		ev |= POLLOUT;
	if ((st & BR_SSL_RECVREC) && !t->eof)
		ev |= POLLIN;
	return ev;
}

int tls_pending(struct tls_conn *t)
{
	return (state(t) & BR_SSL_RECVAPP) != 0;
}

int tls_handshake_done(struct tls_conn *t)
{
	state(t);
	return t->hs_done;
}

void tls_close_notify(struct tls_conn *t, int fd)
{
	if (br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED)
		return;
	br_ssl_engine_close(t->eng);
	send_records(t, fd);
}

static const char *x509_why(unsigned e)
{
	switch (e) {
	case BR_ERR_X509_EXPIRED:
		return "server certificate expired or not yet valid";
	case BR_ERR_X509_NOT_TRUSTED:
		return "server certificate not trusted: self-signed or issued by an unknown CA "
		       "(--ca-file FILE or --pin)";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return NULL;   /* said with the name, below */
	case BR_ERR_X509_EMPTY_CHAIN:
		return "the server sent no certificate";
	case BR_ERR_X509_NOT_CA:
		return "a certificate in the server's chain is not a CA";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "bad signature in the server's certificate chain";
	case BR_ERR_X509_WRONG_KEY_TYPE:
		return "certificate chain: key type does not match the signature";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "server certificate: public key too weak";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "server certificate: key usage forbids TLS server use";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "server certificate: unknown critical extension";
	case BR_ERR_X509_TIME_UNKNOWN:
		return "cannot check the certificate's dates: the clock is unknown";
	case BR_ERR_X509_UNSUPPORTED:
		return "server certificate: unsupported algorithm or key type";
	case BR_ERR_X509_LIMIT_EXCEEDED:
		return "server certificate chain too long or too large";
	case BR_ERR_X509_DN_MISMATCH:
		return "certificate chain out of order (issuer and subject do not match)";
	default:
		return "malformed server certificate";
	}
}

const char *tls_why(struct tls_conn *t)
{
	int e;

	if (!t)
		return "";
	if (t->why[0])
		return t->why;
	if (t->v && t->v->why[0]) {
		fmt_snprintf(t->why, sizeof(t->why), "%s", t->v->why);
		return t->why;
	}
	e = br_ssl_engine_last_error(t->eng);
	if (e > BR_ERR_X509_OK && e < 64) {
		const char *w = x509_why((unsigned)e);

		if (w)
			fmt_snprintf(t->why, sizeof(t->why), "%s (X.509 error %d)", w, e);
		else
			fmt_snprintf(t->why, sizeof(t->why), "server certificate is not for '%.120s' "
				 "(wrong host name)", t->v ? t->v->host : "?");
		return t->why;
	}
	switch (e) {
	case BR_ERR_OK:
		return "";
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION:
		fmt_snprintf(t->why, sizeof(t->why), "the peer does not speak TLS 1.2");
		break;
	case BR_ERR_BAD_CIPHER_SUITE:
	case BR_ERR_BAD_COMPRESSION:
		fmt_snprintf(t->why, sizeof(t->why), "no cipher suite in common with the peer");
		break;
	case BR_ERR_BAD_MAC:
		fmt_snprintf(t->why, sizeof(t->why), "bad record MAC: data corrupted in transit");
		break;
	case BR_ERR_UNKNOWN_TYPE:
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_TOO_LARGE:
		fmt_snprintf(t->why, sizeof(t->why), "not TLS, or a malformed TLS record "
			 "(plain HTTP on a TLS port?)");
		break;
	case BR_ERR_IO:
		fmt_snprintf(t->why, sizeof(t->why), "I/O error");
		break;
	default:
		if (e >= BR_ERR_SEND_FATAL_ALERT)
			fmt_snprintf(t->why, sizeof(t->why), "handshake failed: we sent alert %d",
				 e - BR_ERR_SEND_FATAL_ALERT);
		else if (e >= BR_ERR_RECV_FATAL_ALERT)
			fmt_snprintf(t->why, sizeof(t->why), "the peer refused the handshake (alert %d%s)",
				 e - BR_ERR_RECV_FATAL_ALERT,
				 e - BR_ERR_RECV_FATAL_ALERT == 48 ? ": unknown CA" :
				 e - BR_ERR_RECV_FATAL_ALERT == 40 ? ": handshake failure" : "");
		else
			fmt_snprintf(t->why, sizeof(t->why), "protocol error (BearSSL error %d)", e);
	}
	return t->why;
}

#else /* !NESTD_TLS */

int tls_available(void)
{
	return 0;
}

struct tls_ctx *tls_client_ctx(const struct tls_client_opts *o, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "this nestd was built without TLS");
	return NULL;
}

struct tls_ctx *tls_server_ctx(const char *cert_file, const char *key_file,
			       char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "this nestd was built without TLS");
	return NULL;
}

void tls_ctx_free(struct tls_ctx *x)
{
}

struct tls_conn *tls_conn_new(struct tls_ctx *x, const char *host, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "this nestd was built without TLS");
	return NULL;
}

void tls_conn_free(struct tls_conn *t)
{
}

/* Never reached with a NULL t: callers test for TLS first. */
ssize_t tls_read(struct tls_conn *t, int fd, void *p, size_t n)
{
	return read(fd, p, n);
}

ssize_t tls_write(struct tls_conn *t, int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

int tls_flush(struct tls_conn *t, int fd)
{
	return 0;
}

short tls_events(struct tls_conn *t, int have_output)
{
	return POLLIN | (have_output ? POLLOUT : 0);
}

int tls_pending(struct tls_conn *t)
{
	return 0;
}

int tls_handshake_done(struct tls_conn *t)
{
	return 1;
}

void tls_close_notify(struct tls_conn *t, int fd)
{
}

const char *tls_why(struct tls_conn *t)
{
	return "";
}

int tls_sessions_save(struct tls_ctx *x, const char *path, char *err, size_t errlen)
{
	return 0;
}

int tls_sessions_load(struct tls_ctx *x, const char *path, char *err, size_t errlen)
{
	return 0;
}

void tls_sessions_stats(const struct tls_ctx *x, unsigned long *resumed, unsigned long *full)
{
	*resumed = *full = 0;
}

#endif /* NESTD_TLS */
