# nestd - plain Makefile.  CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR are honoured.
#   make            ./nestd (with TLS when BearSSL is installed; TLS=0 without)
#   make test       unit tests, integration tests against real peers
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#   make static     ./nestd-static: static musl binary, stripped (BearSSL built
#                   from Debian's source by tools/bearssl-musl.sh, or BEARSSL_DIR)
#   make test-static  the static-only unit tests (make static-unit), then the
#                   integration suite against ./nestd-static
#   make static-syms  the same build unstripped (build/static-syms/nestd) and its
#                   largest symbols: where the static binary's bytes go
#   make static-agent ./nestd-agent-static: the agent alone, static, TLS, <= 200 KiB
#   make test-static-agent  static-unit-agent, then the agent-side integration tests against it
#   make dist       dist/nestd-VERSION-linux-ARCH, dist/nestd-agent-VERSION-linux-ARCH,
#                   their .sha256, sizes checked
#   make install    PREFIX=/usr/local DESTDIR=
#   TLS=auto|1|0    TLS through BearSSL (auto: when /usr/include/bearssl.h exists)
#   NATS=auto|1|0   clustering (--cluster) through libnats (auto: when
#                   /usr/include/nats/nats.h exists); the static binaries never link it
#   make test-cluster  three nats-server nodes and three servers on loopback
#                   (test/cluster/setup.sh installs nats-server and libnats-dev)
#   make test-browser  the dashboard in chromium (installs chromium, playwright-core)
#   make test-install  the one-line installer against http.server and nestd server
#   make test-systemd  service commands against a real systemd 252 booted in a
#                   container (root; test/systemd/setup.sh installs systemd-container
#                   and debootstrap and caches a Debian 12 root in /var/tmp)
#   make test-openrc   the same against a real OpenRC in a second container
#   make deb        dist/nestd_VERSION-1_ARCH.deb (dpkg-deb; lintian when installed)
#   make test-deb   that package installed, started and removed in a Debian root
#   make soak       SOAK_TIME seconds (180) of mixed load; RSS and descriptors
#                   of the server and its agents must not grow
VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
O       ?= build
NESTD   ?= ./nestd
TLS     ?= auto
BEARSSL_DIR ?=
ARCH    := $(shell uname -m)

WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
INCS    ?=
CPPFLAGS += -D_GNU_SOURCE -I. $(INCS)

# TLS: BearSSL linked statically either way (its .a), so ./nestd runs where
# libbearssl0 is not installed.  BEARSSL_DIR: a tree with include/ and lib/
# (build/bearssl-musl, or Alpine's bearssl-dev under /usr).
ifeq ($(TLS),auto)
ifneq ($(BEARSSL_DIR),)
override TLS := 1
else ifneq ($(wildcard /usr/include/bearssl.h),)
override TLS := 1
else
override TLS := 0
endif
endif
ifeq ($(TLS),1)
CPPFLAGS += -DNESTD_TLS=1
ifneq ($(BEARSSL_DIR),)
CPPFLAGS += -I$(BEARSSL_DIR)/include
LDLIBS   += $(BEARSSL_DIR)/lib/libbearssl.a
else
LDLIBS   += -l:libbearssl.a
endif
endif
# NATS: the server's cluster link (server_nats.c, token_kv.c, the
# server_cluster files) through Debian's libnats-dev, linked dynamically;
# NATS=0 compiles them down to stubs that say clustering is not built in.
NATS    ?= auto
ifeq ($(NATS),auto)
ifneq ($(wildcard /usr/include/nats/nats.h),)
override NATS := 1
else
override NATS := 0
endif
endif
ifeq ($(NATS),1)
CPPFLAGS += -DNESTD_NATS=1
LDLIBS   += -lnats -lpthread
endif
# AGENT_ONLY=1: nestd.c dispatches the agent alone (see static-agent).
AGENT_ONLY ?= 0
ifeq ($(AGENT_ONLY),1)
CPPFLAGS += -DNESTD_AGENT_ONLY=1
endif
# ERRMSG=1: errmsg.c's strerror replaces the C library's, with musl's own
# messages printed at build time by tools/errgen (built with $(CC), run
# here).  On for musl builds (CC=$(MUSL_CC): make static, static-agent)
# without NATS, which are one thread; see errmsg.c.
MUSL_CC ?= musl-gcc
ERRMSG  ?= $(if $(filter $(MUSL_CC),$(CC)),$(if $(filter 0,$(NATS)),1,0),0)
ifeq ($(ERRMSG),1)
CPPFLAGS += -DNESTD_ERRMSG=1
endif
ALL_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS)

HDR      := $(wildcard *.h)
LIB_SRC  := $(filter-out nestd.c,$(wildcard *.c))
# Files built into the binary from their single source by tools/embed:
# the dashboard (ui/*), install.sh (served at /install.sh) and the --help
# texts (help_text.h through tools/helpgen; the agent-only build, the
# agent's alone: helpgen -1).
UI_FILES := ui/index.html ui/app.js ui/style.css
HELP_ONLY := $(if $(filter 1,$(AGENT_ONLY)),-1,)
GEN_OBJ  := $(O)/ui_data.o $(O)/install_data.o $(O)/help_data.o \
	$(if $(filter 1,$(ERRMSG)),$(O)/errmsg_data.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o) $(GEN_OBJ)
HOSTCC  ?= cc
TEST_SRC := $(wildcard test/test_*.c) test/unit.c
TEST_OBJ := $(TEST_SRC:%.c=$(O)/%.o)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)

all: nestd

nestd: $(O)/nestd.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Only tls.c looks at NESTD_TLS, only the cluster's files, token_kv.c and
# the router (and its test) at NESTD_NATS: rebuild them when the choice
# changes.
$(O)/tls.o: $(O)/tls.flags
$(O)/tls.flags: FORCE
	@mkdir -p $(dir $@)
	@echo 'TLS=$(TLS) $(CC) $(CPPFLAGS) $(CFLAGS)' | cmp -s - $@ || \
		echo 'TLS=$(TLS) $(CC) $(CPPFLAGS) $(CFLAGS)' > $@
NATS_OBJ := $(addprefix $(O)/,server_nats.o token_kv.o server_cluster.o server_remote.o \
	server_tokens.o server_auditq.o server_jsreq.o server_router.o test/test_server_router.o)
$(NATS_OBJ): $(O)/nats.flags
$(O)/nats.flags: FORCE
	@mkdir -p $(dir $@)
	@echo 'NATS=$(NATS) $(CC) $(CPPFLAGS) $(CFLAGS)' | cmp -s - $@ || \
		echo 'NATS=$(NATS) $(CC) $(CPPFLAGS) $(CFLAGS)' > $@

$(O)/nestd: $(O)/nestd.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ tools/embed.c

# Stored gzip-compressed (served as is to clients that accept gzip,
# inflated by inflate.c for the rest): zopfli when installed (deps.sh static
# brings it; ~4% smaller), else gzip -9 -n.  Both are deterministic.
GZIP_CMD ?= $(shell command -v zopfli >/dev/null 2>&1 && echo 'zopfli --gzip -c' || echo 'gzip -9 -n -c')
UI_GZ    := $(UI_FILES:ui/%=$(O)/gz/%.gz)

$(O)/gz/index.html.gz: ui/index.html
	@mkdir -p $(dir $@)
	$(GZIP_CMD) $< > $@.tmp && mv $@.tmp $@

# The script and the style go through tools/minify first (comments and
# layout out, tokens untouched; ~5 KB less compressed).
.PRECIOUS: $(O)/min/%.js $(O)/min/%.css
$(O)/tools/minify: tools/minify.c tools/minify.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ tools/minify.c

# Then Debian's terser when it is installed (deps.sh static brings
# node-terser): local names shortened, dead code dropped (-c -m; no
# top-level renaming), 2.1 KB less compressed.  Without it, or if it fails,
# the minified file goes in as it is.  NODE_PATH: Debian's modules for a
# node that does not look there itself (nodesource's).
TERSER ?= $(shell command -v terser 2>/dev/null)
$(O)/min/%.js: ui/%.js $(O)/tools/minify
	@mkdir -p $(dir $@)
	$(O)/tools/minify js < $< > $@.tmp
	@if [ -n "$(TERSER)" ] && NODE_PATH=/usr/share/nodejs $(TERSER) -c -m -o $@.ter $@.tmp 2>$@.err && \
		[ -s $@.ter ]; then mv $@.ter $@.tmp; else \
		echo "terser unavailable or failed ($$(head -c 200 $@.err 2>/dev/null)): $< kept unmangled" >&2; fi
	@rm -f $@.ter $@.err
	mv $@.tmp $@

$(O)/min/%.css: ui/%.css $(O)/tools/minify
	@mkdir -p $(dir $@)
	$(O)/tools/minify css < $< > $@.tmp && mv $@.tmp $@

$(O)/gz/%.js.gz: $(O)/min/%.js
	@mkdir -p $(dir $@)
	$(GZIP_CMD) $< > $@.tmp && mv $@.tmp $@

$(O)/gz/%.css.gz: $(O)/min/%.css
	@mkdir -p $(dir $@)
	$(GZIP_CMD) $< > $@.tmp && mv $@.tmp $@

# install.sh served without its comments and indentation (here-documents
# and strings untouched), and checked by sh -n as it will be served.
$(O)/min/install.sh: install.sh $(O)/tools/minify
	@mkdir -p $(dir $@)
	$(O)/tools/minify sh < $< > $@.tmp && sh -n $@.tmp && mv $@.tmp $@

$(O)/gz/install.sh.gz: $(O)/min/install.sh
	@mkdir -p $(dir $@)
	$(GZIP_CMD) $< > $@.tmp && mv $@.tmp $@

$(O)/ui_data.c: $(O)/tools/embed $(UI_GZ)
	$(O)/tools/embed -z ui_files $(UI_GZ) > $@.tmp && mv $@.tmp $@

$(O)/install_data.c: $(O)/tools/embed $(O)/gz/install.sh.gz
	$(O)/tools/embed -z install_files $(O)/gz/install.sh.gz > $@.tmp && mv $@.tmp $@

# The --help texts, each ending in a NUL, as one stream (help.c); the
# agent-only build keeps its one text plain (it has no inflater to spare).
$(O)/tools/helpgen: tools/helpgen.c help_text.h config.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ tools/helpgen.c

$(O)/help.txt: $(O)/tools/helpgen
	$(O)/tools/helpgen $(HELP_ONLY) > $@.tmp && mv $@.tmp $@

# errmsg.c's table (ERRMSG=1): tools/errgen's stream of musl's messages;
# and, for the unit test, errgen -t's list of what strerror must answer.
$(O)/tools/errgen: tools/errgen.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ tools/errgen.c

$(O)/errmsg.txt: $(O)/tools/errgen
	$(O)/tools/errgen > $@.tmp && mv $@.tmp $@

# Both streams gzip in the full binary, plain in the agent-only one.
TXT_DATA := $(O)/help_data.c $(O)/errmsg_data.c
$(TXT_DATA:$(O)/%_data.c=$(O)/gz/%.txt.gz): $(O)/gz/%.txt.gz: $(O)/%.txt
	@mkdir -p $(dir $@)
	$(GZIP_CMD) $< > $@.tmp && mv $@.tmp $@

ifeq ($(AGENT_ONLY),1)
$(TXT_DATA): $(O)/%_data.c: $(O)/%.txt $(O)/tools/embed
	$(O)/tools/embed $*_files $< > $@.tmp && mv $@.tmp $@
else
$(TXT_DATA): $(O)/%_data.c: $(O)/gz/%.txt.gz $(O)/tools/embed
	$(O)/tools/embed -z $*_files $< > $@.tmp && mv $@.tmp $@
endif

$(O)/test/errmsg_expect.inc: $(O)/tools/errgen
	@mkdir -p $(dir $@)
	$(O)/tools/errgen -t > $@.tmp && mv $@.tmp $@

$(O)/test/test_errmsg.o: test/test_errmsg.c $(if $(filter 1,$(ERRMSG)),$(O)/test/errmsg_expect.inc) \
		$(HDR) test/t.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(O)/test -c -o $@ $<

$(O)/%_data.o: $(O)/%_data.c embed.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# test/unit.c includes the generated list of test functions: every line of
# the form "void test_NAME(void)" in test/test_*.c.
$(O)/test/tests.inc: $(wildcard test/test_*.c)
	@mkdir -p $(dir $@)
	sed -n 's/^void \(test_[a-z0-9_]*\)(void)$$/T(\1)/p' $^ > $@

$(O)/test/unit.o: test/unit.c $(O)/test/tests.inc $(HDR) test/t.h
	$(CC) $(ALL_CFLAGS) -I$(O)/test -c -o $@ $<

$(O)/test/test_minify.o: tools/minify.c tools/minify.h
$(O)/test/test_%.o: test/test_%.c $(HDR) test/t.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/unit: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(O)/unit
	$(O)/unit

deps:
	sh ./deps.sh test

test: deps nestd $(O)/unit
	$(O)/unit
	NESTD=$(NESTD) sh test/run-integration.sh

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: deps
	$(MAKE) O=build/asan CC=clang CFLAGS="$(ASAN_FLAGS)" build/asan/unit build/asan/nestd-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		NESTD=build/asan/nestd-asan sh test/run-integration.sh

build/asan/nestd-asan: $(O)/nestd.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined
FUZZ_TIME ?= 20
fuzz: deps
	$(MAKE) O=build/fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
	sh fuzz/run.sh $(FUZZ_TIME)

fuzz-bins: $(FUZZ_SRC:fuzz/%.c=$(O)/%)

$(O)/fuzz_%: fuzz/fuzz_%.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# The release binary: musl, static, stripped, small (-Oz, unused sections
# dropped).  jsmn is header-only: its header is copied beside the build so
# musl-gcc never sees glibc's /usr/include.
# -fno-pie: Debian's gcc makes position-independent code by default, but a
# -static link is a fixed-address executable, so PIE code only costs its
# longer GOT-relative sequences (1.5 KB in the agent, 4 KB in the full one).
# -flto-partition=one: the whole program optimised as one unit (inlining
# and dropping across every file; 0.3 KB off the agent, 0.8 KB off the
# full binary; these builds are small enough for one partition).
# -fno-jump-tables: a switch becomes compares and branches, not a table of
# addresses in .rodata (0.9 KB off the full binary; no slower per round
# trip: bench/bench_agent_instr.sh).
# -DNESTD_MALLOC=1: mem.c's allocator replaces musl's malloc (~7 KB less).
# -fno-tree-switch-conversion: no lookup tables built from switches (0.4 KB);
# -fno-partial-inlining: no function split to inline its head (0.2 KB).
# Neither moves the agent's instructions per round trip
# (bench/bench_agent_instr.sh: 15,705 against 15,714 before), and the
# server's went down 0.3 % (bench/bench_server_instr.sh, BINS= both).
# -Oz on every file, not -Os (2.2 KB off the full binary, 0.9 KB off the
# agent's): the agent's instructions per round trip stayed the same
# (15,668 against 15,705), a full TLS handshake too (BearSSL keeps its own
# -Os), the server's rose 1.2 % per relayed request and 2.7 % per /healthz
# (bench/bench_server_instr.sh).  Only cold files at -Oz, the earlier rule,
# was bigger than both: LTO does not inline across optimisation levels.
STATIC_CFLAGS  = -Oz -flto=auto -flto-partition=one -ffunction-sections -fdata-sections \
		 -fno-asynchronous-unwind-tables -fcf-protection=none -fno-pie -fno-jump-tables \
		 -fno-tree-switch-conversion -fno-partial-inlining -DNESTD_MALLOC=1
# -z norelro: a static musl binary has no loader to make RELRO read-only, and
# the page RELRO wants aligned costs up to 4 KiB of padding in the file; a
# small common-page-size keeps ld from padding the data to save a page of
# memory at run time.  The file is then text + data, no page rounding.
# --sort-section=alignment: sections of like alignment together, less
# padding between them (88 bytes).
STATIC_LDFLAGS = -static -no-pie -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none \
		 -Wl,-z,norelro -Wl,-z,common-page-size=64 -Wl,--sort-section=alignment
# Nothing in a static musl C binary unwinds: its .eh_frame (from libc.a and
# BearSSL, ~10 KB) goes, with the compiler's .comment.
OBJCOPY ?= objcopy
DROP_SECTIONS = $(OBJCOPY) -R .eh_frame -R .comment
static: nestd-static
nestd-static: FORCE
	@command -v $(MUSL_CC) >/dev/null 2>&1 || sh ./deps.sh static
	@mkdir -p build/include && cp -f /usr/include/jsmn.h build/include/ 2>/dev/null || \
		test -f build/include/jsmn.h
ifeq ($(TLS),0)
	$(MAKE) O=build/static-notls CC=$(MUSL_CC) TLS=0 NATS=0 BEARSSL_DIR= \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(STATIC_LDFLAGS)" INCS=-I$(CURDIR)/build/include \
		build/static-notls/nestd
	$(DROP_SECTIONS) build/static-notls/nestd $@
else
ifeq ($(BEARSSL_DIR),)
	sh tools/bearssl-musl.sh build
	$(MAKE) static BEARSSL_DIR=$(CURDIR)/build/bearssl-musl
else
	$(MAKE) O=build/static CC=$(MUSL_CC) TLS=1 NATS=0 BEARSSL_DIR=$(BEARSSL_DIR) \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(STATIC_LDFLAGS)" INCS=-I$(CURDIR)/build/include \
		build/static/nestd
	$(DROP_SECTIONS) build/static/nestd $@
endif
endif

# The full static build with its symbols (only -s left out of the link)
# and the 40 largest of them, biggest last: what to look at first when the
# binary grows.  SYMS_O=build/static-agent-syms AGENT_ONLY=1 for the agent's.
SYMS_O ?= build/static-syms
static-syms: FORCE
	@command -v $(MUSL_CC) >/dev/null 2>&1 || sh ./deps.sh static
	@mkdir -p build/include && cp -f /usr/include/jsmn.h build/include/ 2>/dev/null || \
		test -f build/include/jsmn.h
	sh tools/bearssl-musl.sh build
	$(MAKE) O=$(SYMS_O) CC=$(MUSL_CC) TLS=1 NATS=0 BEARSSL_DIR=$(CURDIR)/build/bearssl-musl \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(filter-out -s,$(STATIC_LDFLAGS))" \
		INCS=-I$(CURDIR)/build/include $(SYMS_O)/nestd
	@nm --size-sort -S -t d $(SYMS_O)/nestd | tail -n 40
	@size $(SYMS_O)/nestd

# The agent alone (nestd.c built with NESTD_AGENT_ONLY): agent, its
# commands and the TLS client; the linker drops everything else (server,
# dashboard, installer, ctl, token tools, BearSSL's server half).  For
# initramfs images and tiny containers; install.sh fetches it by default.
static-agent: nestd-agent-static
nestd-agent-static: FORCE
	@command -v $(MUSL_CC) >/dev/null 2>&1 || sh ./deps.sh static
	@mkdir -p build/include && cp -f /usr/include/jsmn.h build/include/ 2>/dev/null || \
		test -f build/include/jsmn.h
ifeq ($(TLS),0)
	$(MAKE) O=build/static-agent-notls CC=$(MUSL_CC) TLS=0 NATS=0 BEARSSL_DIR= AGENT_ONLY=1 \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(STATIC_LDFLAGS)" INCS=-I$(CURDIR)/build/include \
		build/static-agent-notls/nestd
	$(DROP_SECTIONS) build/static-agent-notls/nestd $@
else
ifeq ($(BEARSSL_DIR),)
	sh tools/bearssl-musl.sh build
	$(MAKE) static-agent BEARSSL_DIR=$(CURDIR)/build/bearssl-musl
else
	$(MAKE) O=build/static-agent CC=$(MUSL_CC) TLS=1 NATS=0 BEARSSL_DIR=$(BEARSSL_DIR) AGENT_ONLY=1 \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(STATIC_LDFLAGS)" INCS=-I$(CURDIR)/build/include \
		build/static-agent/nestd
	$(DROP_SECTIONS) build/static-agent/nestd $@
endif
endif

test-static: static-unit
	$(MAKE) test NESTD=$(CURDIR)/nestd-static

# The unit tests of code only the static builds have (errmsg.c's strerror),
# in a unit binary built as nestd-static (static-unit) or nestd-agent-static
# (static-unit-agent) is: the same objects, linked unstripped.
STATIC_UNIT = errmsg
STATIC_SSL  = $(if $(filter 0,$(TLS)),TLS=0 BEARSSL_DIR=,TLS=1 BEARSSL_DIR=$(or $(BEARSSL_DIR),$(CURDIR)/build/bearssl-musl))
static_unit = $(MAKE) O=$(1) CC=$(MUSL_CC) $(STATIC_SSL) NATS=0 AGENT_ONLY=$(2) \
		CFLAGS="$(STATIC_CFLAGS)" LDFLAGS="$(filter-out -s,$(STATIC_LDFLAGS))" \
		INCS=-I$(CURDIR)/build/include $(1)/unit && \
	$(1)/unit $(STATIC_UNIT)
static-unit: static
	$(call static_unit,build/static$(if $(filter 0,$(TLS)),-notls),0)
static-unit-agent: static-agent
	$(call static_unit,build/static-agent$(if $(filter 0,$(TLS)),-notls),1)

# The agent-side integration tests with `nestd agent` run by the agent-only
# binary, everything else (server, ctl, token) by the full static one.
AGENT_IT = it_agent it_commands it_tls it_api it_dns
test-static-agent: static static-unit-agent deps
	NESTD=$(CURDIR)/nestd-static NESTD_AGENT=$(CURDIR)/nestd-agent-static IT_ONLY="$(AGENT_IT)" \
		sh test/run-integration.sh

# dist/: the static TLS binaries under their release names, the full one
# (nestd-VERSION-linux-ARCH) and the agent-only one (nestd-agent-VERSION-
# linux-ARCH, which install.sh fetches by default), each also under its
# unversioned name, each with its .sha256; then the sizes against the
# targets (full with TLS <= 400 KiB, agent-only with TLS <= 200 KiB, full
# without TLS < 150 KiB).
DIST_NAME  = nestd-$(VERSION)-linux-$(ARCH)
DIST_AGENT = nestd-agent-$(VERSION)-linux-$(ARCH)
dist:
	$(MAKE) static TLS=0
	mv nestd-static build/nestd-static-notls
	$(MAKE) static TLS=1
	$(MAKE) static-agent TLS=1
	@mkdir -p dist
	cp nestd-static dist/$(DIST_NAME)
	cp nestd-static dist/nestd-linux-$(ARCH)
	cp nestd-agent-static dist/$(DIST_AGENT)
	cp nestd-agent-static dist/nestd-agent-linux-$(ARCH)
	cd dist && for f in $(DIST_NAME) nestd-linux-$(ARCH) $(DIST_AGENT) nestd-agent-linux-$(ARCH); do \
		sha256sum $$f > $$f.sha256 || exit 1; done
	@tls=$$(wc -c < dist/$(DIST_NAME)); agent=$$(wc -c < dist/$(DIST_AGENT)); \
	plain=$$(wc -c < build/nestd-static-notls); \
	echo "size: static with TLS    $$tls bytes ($$((tls / 1024)) KiB, target <= 400 KiB: ratio $$(awk -v a=$$tls 'BEGIN { printf "%.3f", a / 409600 }'))"; \
	echo "size: agent-only w/ TLS  $$agent bytes ($$((agent / 1024)) KiB, target <= 200 KiB: ratio $$(awk -v a=$$agent 'BEGIN { printf "%.3f", a / 204800 }'))"; \
	echo "size: static without TLS $$plain bytes ($$((plain / 1024)) KiB, target < 150 KiB: ratio $$(awk -v a=$$plain 'BEGIN { printf "%.3f", a / 153600 }'))"; \
	test $$tls -le 409600 || echo "dist: WARNING: the TLS binary is OVER its 400 KiB target" >&2; \
	test $$agent -le 204800 || echo "dist: WARNING: the agent-only binary is OVER its 200 KiB target" >&2; \
	test $$plain -lt 153600 || echo "dist: WARNING: the binary without TLS is OVER its 150 KiB target" >&2
	@ls -l dist/$(DIST_NAME) dist/$(DIST_AGENT)

# Service files: systemd units where systemd looks for PREFIX's (for
# /usr/local: /usr/local/lib/systemd/{system,user}), the OpenRC script in
# SYSCONFDIR/init.d; their ExecStart/command are rewritten to PREFIX/bin.
SYSCONFDIR ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
INITDIR     ?= $(SYSCONFDIR)/init.d
SHAREDIR    ?= $(PREFIX)/share/nestd
LIBEXECDIR  ?= $(PREFIX)/lib/nestd
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
CONFDIR     ?= $(SYSCONFDIR)/nestd

# The server's unit and config are installed too; a static nestd built here
# (make static) goes to LIBEXECDIR, where /dist/ finds it for install.sh.
install: nestd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR) \
		$(DESTDIR)$(INITDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 nestd $(DESTDIR)$(PREFIX)/bin/nestd
	@mkdir -p $(O)
	sed 's|/usr/local/bin/nestd|$(PREFIX)/bin/nestd|' contrib/nestd-agent.service > $(O)/nestd-agent.service
	sed 's|%h/.local/bin/nestd|$(PREFIX)/bin/nestd|' contrib/nestd-agent.user.service > $(O)/nestd-agent.user.service
	sed 's|/usr/local/bin/nestd|$(PREFIX)/bin/nestd|' contrib/nestd-agent.openrc > $(O)/nestd-agent.openrc
	sed -e 's|/usr/local/bin/nestd|$(PREFIX)/bin/nestd|' -e 's|/etc/nestd/|$(CONFDIR)/|' \
		contrib/nestd-server.service > $(O)/nestd-server.service
	install -m 0644 $(O)/nestd-agent.service $(DESTDIR)$(UNITDIR)/nestd-agent.service
	install -m 0644 $(O)/nestd-server.service $(DESTDIR)$(UNITDIR)/nestd-server.service
	install -m 0644 $(O)/nestd-agent.user.service $(DESTDIR)$(USERUNITDIR)/nestd-agent.service
	install -m 0755 $(O)/nestd-agent.openrc $(DESTDIR)$(INITDIR)/nestd-agent
	install -m 0755 install.sh $(DESTDIR)$(SHAREDIR)/install.sh
	install -m 0644 nestd.1 $(DESTDIR)$(MANDIR)/man1/nestd.1
	install -m 0644 contrib/completions/nestd.bash $(DESTDIR)$(BASHCOMPDIR)/nestd
	install -m 0644 contrib/completions/_nestd $(DESTDIR)$(ZSHCOMPDIR)/_nestd
	test -e $(DESTDIR)$(CONFDIR)/server.conf || install -m 0644 contrib/nestd-server.conf $(DESTDIR)$(CONFDIR)/server.conf
	if [ -f nestd-static ]; then install -d $(DESTDIR)$(LIBEXECDIR) && \
		install -m 0755 nestd-static $(DESTDIR)$(LIBEXECDIR)/nestd-static; fi

# server.conf stays (it may have been edited): remove it by hand.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nestd $(DESTDIR)$(UNITDIR)/nestd-agent.service \
		$(DESTDIR)$(UNITDIR)/nestd-server.service \
		$(DESTDIR)$(USERUNITDIR)/nestd-agent.service $(DESTDIR)$(INITDIR)/nestd-agent \
		$(DESTDIR)$(SHAREDIR)/install.sh $(DESTDIR)$(MANDIR)/man1/nestd.1 \
		$(DESTDIR)$(BASHCOMPDIR)/nestd $(DESTDIR)$(ZSHCOMPDIR)/_nestd \
		$(DESTDIR)$(LIBEXECDIR)/nestd-static
	-rmdir $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

# The Debian package: dist/nestd_VERSION-1_DEBARCH.deb from make install
# DESTDIR=... PREFIX=/usr (with nestd-static when make static built it),
# the maintainer scripts of contrib/deb/ (a nestd system user, /var/lib/nestd,
# the server's unit), checked with lintian when it is installed.
deb: nestd
	sh tools/mkdeb.sh $(VERSION)

# The package installed, started and removed with dpkg in a fresh Debian 12
# root booted with systemd (the harness of test/systemd/; as root).
test-deb: deb
	sh test/systemd/setup.sh systemd
	NESTD=$(NESTD) /usr/bin/python3 test/systemd/it_deb.py

# The installer against python3 -m http.server and against nestd server.
test-install: nestd
	NESTD=$(NESTD) /usr/bin/python3 test/it_install.py

# A few minutes of mixed load (operators, agents coming and going,
# strangers) against one server and three agents; fails if their RSS or
# descriptors grow between the quiet points.  Not part of make test.
SOAK_TIME ?= 180
soak: deps nestd
	NESTD=$(NESTD) /usr/bin/python3 test/soak.py $(SOAK_TIME)

# Real init systems in containers (systemd-nspawn): the agent inside, a
# server on the host's loopback.  Each prints "N passed, N failed".
test-systemd: nestd
	sh test/systemd/setup.sh systemd
	NESTD=$(NESTD) /usr/bin/python3 test/systemd/it_systemd.py

test-openrc: nestd
	sh test/systemd/setup.sh openrc
	NESTD=$(NESTD) /usr/bin/python3 test/systemd/it_openrc.py

# Three nats-server nodes with JetStream and cluster routes, three nestd
# servers and agents spread over them, all on loopback (test/cluster/).
test-cluster:
	sh test/cluster/setup.sh
	$(MAKE) nestd
	NESTD=$(NESTD) /usr/bin/python3 test/cluster/it_cluster.py

# End to end in a real browser (Debian's chromium driven by playwright-core)
# against a real server and agent on loopback; screenshots in test/out/screens.
test-browser: nestd
	sh test/browser/setup.sh
	NESTD=$(NESTD) node --test --test-concurrency=1 test/browser/ui.test.js

clean:
	rm -rf build nestd nestd-static nestd-agent-static dist

.PHONY: all test unit deps asan fuzz fuzz-bins install uninstall clean static test-static dist FORCE \
	static-agent test-static-agent static-syms static-unit static-unit-agent
FORCE:

.PHONY: all test unit deps asan fuzz fuzz-bins install uninstall test-install test-browser clean \
	test-systemd test-openrc test-cluster deb test-deb soak
