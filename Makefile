# callbar: the commands people type.  CMake + Ninja do the building; this
# file only names the usual entry points.
#   make          build build/callbar (release with debug info)
#   make run      start the daemon on loopback with the defaults, and say how
#                 to try it (Ctrl-C stops it)
#   make check    install missing Debian packages (as root), build with
#                 ASan+UBSan and warnings as errors, run every test (ctest)
#   make bench    run the benchmarks (ratios against same-run baselines)
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (clang)
#   make install  install under PREFIX (default /usr/local), staged in DESTDIR
#   make deb      build the Debian package (../callbar_*.deb) with dpkg-buildpackage

PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)

.PHONY: all build run check deps bench fuzz install deb clean

all: build

build/build.ninja:
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: build/build.ninja
	cmake --build build --target callbar

# The example policy: the provincial pilots (etc/callbar/pilots.rules).
RUN_RULES = etc/callbar/pilots.rules

run: deps
	@$(MAKE) --no-print-directory build
	@mkdir -p var
	@echo "== callbar serve: HTTP on 127.0.0.1:8080, SIP on 127.0.0.1:5060 (rules $(RUN_RULES), registry sqlite:var/callbar.db, tokens var/tokens)"
	build/callbar serve --http 127.0.0.1:8080 --sip 127.0.0.1:5060 --rules $(RUN_RULES) \
	    --tokens var/tokens

deps:
	sh tools/deps.sh

check: deps
	cmake -S . -B build-check -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	    -DCBAR_SANITIZE=ON -DCBAR_WERROR=ON
	cmake --build build-check -j $(JOBS)
	cd build-check && ctest --output-on-failure -j $(JOBS)

bench: build/build.ninja
	cmake --build build
	sh bench/run.sh build

fuzz:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCBAR_FUZZ=ON -DCBAR_DIFF_TEST=OFF
	cmake --build build-fuzz
	sh fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# PREFIX decides the paths written into the installed configuration and
# unit, so the build is configured with it; DESTDIR (from the environment or
# the command line) stages the files elsewhere, as a package build does.
install: build
	cmake -S . -B build -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build
	DESTDIR=$(DESTDIR) cmake --install build

# The Debian package, built from a copy of the tree (the files git tracks or
# would track) in build-deb/, so that dpkg-buildpackage's output lands there
# and not beside the tree; the commit is passed in, the copy has no .git.
# lintian's verdict follows; debian/lintian-overrides (and docs/packaging.md)
# explain each tag that remains.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null || echo 0)
deb:
	sh tools/deps.sh deb
	rm -rf build-deb && mkdir -p build-deb/callbar-$(DEB_VERSION)
	git ls-files -co --exclude-standard -z | tar cf - --null -T - | tar xf - -C build-deb/callbar-$(DEB_VERSION)
	cd build-deb/callbar-$(DEB_VERSION) && \
	    CBAR_COMMIT=$$(git -C $(CURDIR) rev-parse --short=12 HEAD)$$(test -z "$$(git -C $(CURDIR) status --porcelain --untracked-files=no)" || echo -dirty) \
	    dpkg-buildpackage -b -us -uc -j$(JOBS) >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	lintian --info --display-info build-deb/callbar_$(DEB_VERSION)_*.deb
	@ls build-deb/*.deb

clean:
	rm -rf build build-check build-fuzz build-deb
