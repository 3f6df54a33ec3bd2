# callbar: the commands people type.  CMake + Ninja do the building; this
# file only names the usual entry points.
#   make          build build/callbar (release with debug info)
#   make run      the main job on the embedded defaults
#   make check    install missing Debian packages (as root), build with
#                 ASan+UBSan and warnings as errors, run every test (ctest)
#   make bench    run the benchmarks (ratios against same-run baselines)
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (clang)
#   make install  install under PREFIX (default /usr/local)

PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)

.PHONY: all build run check deps bench fuzz install clean

all: build

build/build.ninja:
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: build/build.ninja
	cmake --build build --target callbar

run: build
	@echo "== callbar number: normalising and classifying a few numbers (context CN)"
	build/callbar number "+852 9123 4567" "00852-9123-4567" "(0571) 8888 8888" \
	    13805710000 "+86 138 0571 0000" "tel:+852-9123-4567" \
	    "tel:91234567;phone-context=+852" "sip:+85291234567@gw.example;user=phone" 110

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

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-check build-fuzz
