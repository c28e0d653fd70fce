# The README's two commands: `make run` and `make test`. Everything else
# is for developers: bench, fuzz, format.
.PHONY: all deps build build-asan run test check bench fuzz format clean

# CI builds with warnings as errors and also runs the suites under ASan/UBSan.
ifeq ($(CI),true)
WERROR := true
SANITIZE := 1
else
WERROR ?= false
SANITIZE ?= 0
endif
RUN_ARGS ?=
FUZZ_SECONDS ?= 60

all: build

deps:
	@scripts/install-deps base

build: deps
	@if [ -f build/build.ninja ]; then meson configure build -Dwerror=$(WERROR) >/dev/null; \
	else meson setup build -Dwerror=$(WERROR) >/dev/null; fi
	@ninja -C build

build-asan: deps
	@if [ ! -f build-asan/build.ninja ]; then \
	  meson setup build-asan -Dwerror=$(WERROR) -Db_sanitize=address,undefined \
	    -Db_lundef=false --buildtype=debug >/dev/null; fi
	@ninja -C build-asan

run: build
	./build/src/daemon/oxd --demo $(RUN_ARGS)

ifeq ($(SANITIZE),1)
test: build build-asan
	@/usr/bin/python3 scripts/run-tests --checks --sanitize
else
test: build
	@/usr/bin/python3 scripts/run-tests --checks
endif

bench:
	@scripts/install-deps bench
	@if [ -f build-release/build.ninja ]; then meson configure build-release -Dbench=true >/dev/null; \
	else meson setup build-release --buildtype=release -Dbench=true >/dev/null; fi
	@ninja -C build-release
	bench/run

fuzz:
	@scripts/install-deps fuzz
	@if [ ! -f build-fuzz/build.ninja ]; then \
	  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
	    -Db_lundef=false --buildtype=debugoptimized >/dev/null; fi
	@ninja -C build-fuzz
	tests/fuzz/run $(FUZZ_SECONDS)

format:
	@git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' | xargs clang-format -i

clean:
	rm -rf build build-asan build-release build-fuzz
