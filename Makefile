# keyfob — every command a newcomer or CI needs. Each target installs what it needs.
SHELL := /bin/bash
.PHONY: test demo bench header install lint test-rust test-soundness test-redis test-c test-install test-python test-docs miri fuzz

# Where `make install` puts the C ABI (header, libraries, pkg-config and CMake files).
PREFIX ?= /usr/local

## make test: everything CI runs (lint, Rust, soundness checks, Redis store, C ABI and its
## install, Python/Django, every code block of the docs)
test: lint test-rust test-soundness test-redis test-c test-install test-python test-docs
	@echo "make test: all suites passed"

lint:
	bash scripts/lint.sh

test-rust:
	bash scripts/test-rust.sh

## the build without the resumed HMAC, loom, Miri and fuzzing, each bounded
test-soundness:
	bash scripts/test-soundness.sh

test-redis:
	bash scripts/test-redis.sh

test-c:
	bash scripts/test-c.sh

test-install:
	bash scripts/test-install.sh

test-python:
	bash scripts/test-python.sh

## every code block of README.md, BENCHMARKING.md and docs/*.md, compiled or run
test-docs:
	bash scripts/test-docs.sh

## make demo: the example Django project (examples/django) on 127.0.0.1:8000
demo:
	bash scripts/demo.sh

## make bench: benchmarks with the peers side by side → target/bench-report.md
bench:
	bash scripts/bench.sh

## make miri: every memory-store test under Miri
miri:
	bash scripts/miri.sh

## make fuzz: each fuzz target for FUZZ_SECONDS (default 300)
fuzz:
	bash scripts/fuzz.sh

## make header: regenerate include/keyfob.h with cbindgen (from bindings/c)
header:
	bash scripts/header.sh

## make install PREFIX=/usr/local: the C ABI for C/C++ users (pkg-config and CMake)
install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" bash scripts/install.sh
