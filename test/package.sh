#!/usr/bin/env bash
#
# test/package.sh -- build cf's release artifacts and test them installed.
#
#   test/package.sh            the Debian packages for PostgreSQL 15 and 17,
#                              and the PGXN zip
#   test/package.sh --pg N     the Debian package for major N only (15, 17, 18)
#
# On this machine it makes the release files with "make dist" (from the
# committed tree: dist/cf-VERSION.zip and .tar.gz).  Then, for each major,
# in the Debian root of the release that ships it (lib.sh, "other
# PostgreSQL majors"; 15 too, so that nothing lands in this machine's
# PostgreSQL):
#
#   - builds postgresql-N-cf from the tarball (as the orig tarball) and
#     debian/ with pg_buildext and dpkg-buildpackage -us -uc;
#   - removes any cf a "make install" left in that PostgreSQL, installs the
#     .deb with apt-get (which brings its dependencies), checks that the
#     package owns the installed files, and runs the pg_regress suite
#     against a private cluster of that PostgreSQL; then purges it;
#   - on 15, installs the zip with Debian's pgxnclient ("pgxn install
#     ./cf-VERSION.zip"), runs the pg_regress suite against it, and
#     uninstalls it.
#
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
# Port $CF_PACKAGE_PORT (default 5488), cluster directory /tmp/cf-package in
# the root.  Needs root (chroot, apt-get).
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${CF_PACKAGE_PORT:-5488}
PASSED=0
FAILED=0
RESULTS=()
CLUSTER_UP=
REPORTED=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cf-package.XXXXXX")
VERSION=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$TOP/cf_extension.control")

usage() {
	sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

# record NAME PASSED FAILED [NOTE]
record() {
	record_counts "$(printf '%-16s %4d passed, %4d failed  %s' "$1" "$2" "$3" "${4:-}")" "$2" "$3"
}

# check NAME COMMAND...: one test that passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		record "$name" 1 0
	else
		record "$name" 0 1
	fi
}

# regress NAME: the pg_regress suite against the cluster, with the cf that
# is installed in this PostgreSQL (nothing is built).
regress() {
	local out=$WORK/$1.out rc=0 p f
	heading "pg_regress against $1"
	rm -f "$TOP/regression.diffs"
	make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= TAP_TESTS= 2>&1 |
		tee "$out" || rc=$?
	p=$(grep -cE ' \.\.\. +ok( |$)|^ok [0-9]+ ' "$out" || true)
	f=$(grep -cE ' \.\.\. +FAILED|^not ok [0-9]+ ' "$out" || true)
	if ((rc != 0)); then
		[[ -s $TOP/regression.diffs ]] && head -n 200 "$TOP/regression.diffs"
		((f > 0)) || f=1
	fi
	record "$1" "$p" "$f" "(pg_regress)"
}

# cf_files: the cf files installed in this PostgreSQL, one a line.
cf_files() {
	local lib share
	lib=$("$PG_CONFIG" --pkglibdir)
	share=$("$PG_CONFIG" --sharedir)/extension
	ls -1 "$lib"/cf.so "$lib"/bitcode/cf.index.bc "$share"/cf.control "$share"/cf--*.sql 2>/dev/null || true
}

# remove_make_install: take out a cf that "make install" put here (files no
# package owns), so that what is tested next is the package's alone.
remove_make_install() {
	local files
	make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" uninstall >/dev/null 2>&1 || true
	rm -rf "$("$PG_CONFIG" --pkglibdir)/bitcode/cf"
	files=$(cf_files)
	if [[ -n $files ]]; then
		note "cf files left in PostgreSQL $CF_PG_MAJOR after make uninstall:"
		printf '%s\n' "$files"
		return 1
	fi
}

# deb_owns: every installed cf file belongs to postgresql-N-cf.
deb_owns() {
	local file owner ok=0
	[[ -n $(cf_files) ]] || return 1
	while read -r file; do
		owner=$(dpkg -S "$file" 2>/dev/null | cut -d: -f1 || true)
		note "$file: ${owner:-no package}"
		[[ $owner == "postgresql-$CF_PG_MAJOR-cf" ]] || ok=1
	done < <(cf_files)
	return "$ok"
}

# in_root: the part that runs inside the Debian root of CF_PG_MAJOR.
in_root() {
	local m=$CF_PG_MAJOR build=/build deb
	ensure_packages "${CF_PACKAGES[@]}" build-essential debhelper dpkg-dev fakeroot postgresql-server-dev-all \
		pgxnclient
	heading "Building postgresql-$m-cf $VERSION-1"
	rm -rf "$build"
	mkdir -p "$build"
	cp "$TOP/dist/cf-$VERSION.tar.gz" "$build/cf_$VERSION.orig.tar.gz"
	tar -xzf "$build/cf_$VERSION.orig.tar.gz" -C "$build"
	cp -R "$TOP/debian" "$build/cf-$VERSION/"
	if (cd "$build/cf-$VERSION" && pg_buildext updatecontrol &&
		dpkg-buildpackage -us -uc) >"$WORK/deb-build.log" 2>&1; then
		tail -n 5 "$WORK/deb-build.log"
		ls -l "$build"/*.deb
		record deb-build 1 0
	else
		tail -n 60 "$WORK/deb-build.log"
		record deb-build 0 1
		return 0
	fi
	deb=$(ls "$build"/postgresql-"$m"-cf_"$VERSION"-1_*.deb)

	heading "Installing $(basename "$deb") where no cf is installed"
	check clean-before remove_make_install
	check deb-install env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"
	check deb-owns-files deb_owns
	cluster_start package "$PORT"
	CLUSTER_UP=1
	regress "deb-pg$m"
	cluster_stop package
	CLUSTER_UP=
	check deb-purge env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "postgresql-$m-cf"

	if [[ $m == 15 ]]; then
		heading "Installing dist/cf-$VERSION.zip with pgxnclient"
		check pgxn-install pgxn install --pg_config "$PG_CONFIG" "$TOP/dist/cf-$VERSION.zip"
		cluster_start package "$PORT"
		CLUSTER_UP=1
		regress "pgxn-pg$m"
		cluster_stop package
		CLUSTER_UP=
		check pgxn-uninstall pgxn uninstall --pg_config "$PG_CONFIG" "$TOP/dist/cf-$VERSION.zip"
		check clean-after remove_make_install
	fi
}

trap 'counted_exit $? package package.sh' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_major_option "$@"
set -- "${CF_ARGS[@]}"
IN_ROOT=
MAJORS=()
while (($#)); do
	case $1 in
	--in-root) IN_ROOT=1 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done

if [[ -n $IN_ROOT ]]; then
	in_root
else
	[[ $EUID -eq 0 ]] || die "test/package.sh needs root (chroot, apt-get)"
	if [[ -n ${CF_PG_MAJOR_GIVEN:-} ]]; then
		MAJORS=("$CF_PG_MAJOR")
	else
		MAJORS=(15 17)
	fi
	heading "make dist"
	ensure_packages git zip make
	make -C "$TOP" -s dist
	ls -l "$TOP/dist"
	for m in "${MAJORS[@]}"; do
		out=$WORK/root-$m.out
		CF_PGROOT_COPY="$TOP/dist" run_in_pg_root "$m" test/package.sh --in-root 2>&1 |
			tee "$out" || true
		line=$(tail -n 1 "$out")
		if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			record "pg$m" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "(in the Debian root)"
		else
			record "pg$m" 0 1 "(the run in the Debian root stopped early)"
		fi
	done
fi

heading "Summary"
printf '%s\n' "${RESULTS[@]}"
REPORTED=1
note "$PASSED passed, $FAILED failed"
((FAILED == 0))
