# SPDX-License-Identifier: GPL-2.0
#
# tcpfault: developer entry points. The kernel build itself is driven by
# Kbuild files, through the kernel's own build system:
#   make                 module/tcpfault.ko against KDIR, and tools/tcpfaultctl
#   make install         modules_install + depmod + the CLI into /usr/local/sbin
#   make check           every test suite (see README.md)
#   make demo            the classic TCP failure experiments in a QEMU guest
#   make matrix          the module, DKMS and the integration suite on every
#                        Debian kernel line (5.10, 6.1, 6.1-rt, 6.12, 7.2, 7.3)
#   make stress          make check at the full stress and fuzz sizes
#   make bench           the benchmark; rewrites BENCHMARKS.md
#                        (BENCH_ARGS='--clock real' for wall-clock time)

KERNELRELEASE ?= $(shell uname -r)
# The running kernel's build tree, or else the Debian kernel the test
# harness provisions (this machine's own kernel cannot load modules).
KDIR ?= $(firstword $(wildcard /lib/modules/$(KERNELRELEASE)/build) \
	$(shell ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1))
PWD := $(shell pwd)
# kbuild's M= cannot take a path with spaces: say so before anything runs.
ifneq ($(words $(PWD)),1)
$(error the checkout's path '$(PWD)' has a space, which kbuild cannot build in; clone tcpfault to a path without spaces)
endif
VERSION := $(shell git -C $(PWD) describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX ?= /usr/local

.PHONY: all module tools install modules_install clean check demo stress bench \
	sparse dkms-src dkms-install fuzz deb matrix

all: module tools

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) TCPFAULT_VERSION=$(VERSION) modules

tools:
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools)

modules_install: module
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(realpath $(KDIR))))

install: modules_install tools
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools install PREFIX=$(PREFIX))

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools clean)
	rm -rf build

# The sources DKMS needs, in $(DESTDIR)/usr/src/tcpfault-<version>.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_DIR := $(DESTDIR)/usr/src/tcpfault-$(DKMS_VERSION)
dkms-src:
	rm -rf $(DKMS_DIR)
	install -d $(DKMS_DIR)/module
	install -m 0644 Kbuild dkms.conf $(DKMS_DIR)/
	install -m 0644 module/Kbuild module/objs.mk module/*.c module/*.h $(DKMS_DIR)/module/

dkms-install: dkms-src
	dkms add -m tcpfault -v $(DKMS_VERSION)
	dkms install -m tcpfault -v $(DKMS_VERSION)

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) C=2 CF=-D__CHECK_ENDIAN__ TCPFAULT_VERSION=$(VERSION) modules

check:
	tools/testing/check.sh

demo:
	tools/testing/demo.sh

matrix:
	tools/testing/check.sh --matrix

stress:
	tools/testing/check.sh --stress

bench:
	tools/testing/bench.sh $(BENCH_ARGS)

deb:
	tools/packaging/build-deb.sh build/deb

fuzz:
	tools/testing/provision.sh fuzz
	$(MAKE) -C tools/testing/fuzz long
