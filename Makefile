# nestd - plain Makefile.  CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR are honoured.
#   make            ./nestd (with TLS when BearSSL is installed; TLS=0 without)
#   make test       unit tests, integration tests against real peers
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#   make static     static musl binary
#   make test-browser  the dashboard in chromium (installs chromium, playwright-core)
#   make install    PREFIX=/usr/local DESTDIR=
VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
O       ?= build
NESTD   ?= ./nestd

WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -I.
ALL_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS)

HDR      := $(wildcard *.h)
LIB_SRC  := $(filter-out nestd.c,$(wildcard *.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
# The dashboard (ui/*) is built into the binary: tools/embed turns the files
# into $(O)/ui_data.c, which every link of the library objects takes along.
UI_FILES := ui/index.html ui/app.js ui/style.css
LIB_OBJ  += $(O)/ui_data.o
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

$(O)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ tools/embed.c

$(O)/ui_data.c: $(O)/tools/embed $(UI_FILES)
	$(O)/tools/embed ui_files $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(O)/ui_data.o: $(O)/ui_data.c embed.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $(O)/ui_data.c

# test/unit.c includes the generated list of test functions: every line of
# the form "void test_NAME(void)" in test/test_*.c.
$(O)/test/tests.inc: $(wildcard test/test_*.c)
	@mkdir -p $(dir $@)
	sed -n 's/^void \(test_[a-z0-9_]*\)(void)$$/T(\1)/p' $^ > $@

$(O)/test/unit.o: test/unit.c $(O)/test/tests.inc $(HDR) test/t.h
	$(CC) $(ALL_CFLAGS) -I$(O)/test -c -o $@ $<

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

install: nestd
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 nestd $(DESTDIR)$(PREFIX)/bin/nestd

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nestd

# End to end in a real browser (Debian's chromium driven by playwright-core)
# against a real server and agent on loopback; screenshots in test/out/screens.
test-browser: nestd
	sh test/browser/setup.sh
	NESTD=$(NESTD) node --test --test-concurrency=1 test/browser/ui.test.js

clean:
	rm -rf build nestd

.PHONY: all test unit deps asan fuzz fuzz-bins install uninstall clean test-browser
