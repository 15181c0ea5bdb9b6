# shellcheck shell=bash
#
# test/lib.sh -- helpers shared by test/demo.sh, test/check.sh and
# test/bench/movielens.sh.  Source it; don't run it.
#
#   as_root CMD...           run CMD as root (directly, or through sudo)
#   as_postgres CMD...       run CMD as the postgres OS user, from /
#   ensure_packages          apt-get install whatever of CF_PACKAGES is missing
#   build_install MODE       make WERROR=1 (as you), make install (as root);
#                            MODE is "verbose" or "quiet" (make -s)
#   cluster_start NAME PORT  fresh private cluster; exports PGHOST PGPORT PGUSER
#   cluster_stop NAME        stop it (files stay until the next start)
#   cluster_running NAME     true if it is up
#   run_psql ARGS...         PostgreSQL 15's psql, no psqlrc, ON_ERROR_STOP
#
# A private cluster lives in one directory, ${CF_CLUSTER_DIR:-/tmp/cf-NAME}:
#
#   data/          the data directory (postgres, 0700)
#   socket/        the Unix socket directory (0755; no TCP at all)
#   postgres.log   the server log (0644)
#   env            "export PGHOST=... PGPORT=... PGUSER=..." to source
#   cf-cluster     marker: the cluster's name; we only ever wipe a
#                  directory that holds this marker with the same name
#
# The directory belongs to postgres; the server never reads anything from
# the checkout, which may sit where postgres cannot look (e.g. /root).

# Where things are.  (The directive below covers the whole file: the
# variables here are used by the scripts that source it.)
# shellcheck disable=SC2034
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# CF_PG_MAJOR: the PostgreSQL major to build against and test on (default
# 15, Debian 12's).  Scripts take it as --pg N (pg_major_option); a major
# this machine's Debian does not ship runs in a Debian root that ships it
# (run_in_pg_root, below).
CF_PG_MAJOR=${CF_PG_MAJOR:-15}
PGBIN=/usr/lib/postgresql/$CF_PG_MAJOR/bin
PG_CONFIG=$PGBIN/pg_config
PGXS_DIR=/usr/lib/postgresql/$CF_PG_MAJOR/lib/pgxs
PSQL=$PGBIN/psql

# CF_INSTALL_ROOT=/some/dir: install cf into a private copy of the
# PostgreSQL installation under that directory (make install DESTDIR=...)
# and run the clusters from that copy, instead of installing into the
# system's PostgreSQL.  For working on several checkouts side by side on one
# machine; CI does not set it.  PostgreSQL finds its share and lib
# directories relative to its binaries, so the copy serves the copied
# extension files.
if [[ -n ${CF_INSTALL_ROOT:-} ]]; then
	PGBIN=$CF_INSTALL_ROOT/usr/lib/postgresql/$CF_PG_MAJOR/bin
fi

# What the build and the tests need from Debian.
CF_PACKAGES=(gcc make pkg-config "postgresql-$CF_PG_MAJOR" "postgresql-server-dev-$CF_PG_MAJOR"
	libopenblas-dev libipc-run-perl)

# ---------------------------------------------------------------- output

# heading TEXT: a short section heading.
heading() { printf '\n== %s\n' "$*"; }

# note TEXT: one line of progress.
note() { printf '%s\n' "$*"; }

# die TEXT: complain on stderr and exit 1.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# --------------------------------------------------------- running as ...

# as_root CMD...: run CMD as root.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo -- "$@"
	else
		die "need root or sudo to run: $*"
	fi
}

# as_postgres CMD...: run CMD as the postgres OS user.  It runs from /, since
# initdb and pg_ctl fail when they cannot read the current directory (say,
# a checkout under /root).  sudo resets the environment: pass what the
# command needs as arguments.
as_postgres() {
	if [[ $EUID -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	elif command -v sudo >/dev/null; then
		(cd / && sudo -u postgres -- "$@")
	else
		die "need root or sudo to run as postgres: $*"
	fi
}

# -------------------------------------------------------------- packages

# ensure_packages [PACKAGE...]: install (apt-get, as root) only the packages
# of CF_PACKAGES (or those given) that are missing.  Installing postgresql-15 on a fresh machine
# may create and start the system cluster 15/main (port 5432); we leave it
# alone and never connect to it: everything here uses private clusters
# reached through their own socket directory.
ensure_packages() {
	local missing=() pkg wanted=("${CF_PACKAGES[@]}")
	(($# == 0)) || wanted=("$@")
	for pkg in "${wanted[@]}"; do
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
			missing+=("$pkg")
		fi
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	heading "Installing missing packages: ${missing[*]}"
	if [[ -z ${CF_APT_UPDATED:-} ]]; then
		# (a Debian root of sid may have a Release file past its Valid-Until
		# in a snapshot registry)
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
			-o Acquire::Check-Valid-Until=false
		CF_APT_UPDATED=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ------------------------------------------------------------------ build

# build_install MODE: build with warnings as errors as the invoking user,
# then install as root.  MODE "quiet" runs make -s (errors still show),
# "verbose" shows every command.
build_install() {
	local flags=() extra=()
	case $1 in
	quiet) flags=(-s) ;;
	verbose) ;;
	*) die "build_install: mode must be quiet or verbose, not '$1'" ;;
	esac
	# CF_MAKE_ARGS: more make variables, words (BENCH=1 for the benchmarks)
	read -ra extra <<<"${CF_MAKE_ARGS:-}"
	flags+=("${extra[@]}")
	heading "Building and installing cf"
	make "${flags[@]}" -C "$TOP" PG_CONFIG="$PG_CONFIG" WERROR=1
	if [[ -n ${CF_INSTALL_ROOT:-} ]]; then
		private_root_prepare
		make "${flags[@]}" -C "$TOP" PG_CONFIG="$PG_CONFIG" install DESTDIR="$CF_INSTALL_ROOT"
	else
		as_root make "${flags[@]}" -C "$TOP" PG_CONFIG="$PG_CONFIG" install
	fi
}

# private_root_prepare: copy the system's PostgreSQL (binaries, libraries,
# share) under CF_INSTALL_ROOT once, keeping their relative layout.
private_root_prepare() {
	local root=$CF_INSTALL_ROOT m=$CF_PG_MAJOR
	[[ $root == /* ]] || die "CF_INSTALL_ROOT must be an absolute path"
	if [[ ! -x $root/usr/lib/postgresql/$m/bin/postgres ]]; then
		note "copying PostgreSQL $m under $root"
		mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
		cp -a "/usr/lib/postgresql/$m" "$root/usr/lib/postgresql/"
		cp -a "/usr/share/postgresql/$m" "$root/usr/share/postgresql/"
	fi
}

# build_variant DIR CC BLAS: build cf in the copy DIR with compiler CC
# (empty: the default) against BLAS ("reference": Debian's reference BLAS
# and LAPACK; empty: OpenBLAS), warnings as errors, and install it under
# CF_INSTALL_ROOT (which must be set), so the system keeps its build.
build_variant() {
	local build=$1 cc=$2 blas=$3 args=(PG_CONFIG="$PG_CONFIG" WERROR=1) d
	[[ -n ${CF_INSTALL_ROOT:-} ]] || die "build_variant: CF_INSTALL_ROOT is not set"
	heading "Building cf${cc:+ with $cc}${blas:+ against $blas BLAS} (in a copy)"
	[[ -n $cc ]] && args+=(CC="$cc")
	if [[ $blas == reference ]]; then
		# Debian's reference BLAS and LAPACK by their own directories (the
		# plain names are alternatives that OpenBLAS takes over when it is
		# installed), found at run time through DT_RPATH.
		d=/usr/lib/$(gcc -print-multiarch)
		args+=(BLAS_CFLAGS= "BLAS_LIBS=-L$d/blas -L$d/lapack -Wl,--disable-new-dtags,-rpath,$d/blas:$d/lapack -llapack -lblas")
	fi
	mkdir -p "$build"
	cp -R "$TOP/Makefile" "$TOP/cf_extension.control" "$TOP/src" "$TOP/sql" "$build/"
	make -C "$build" -s "${args[@]}" clean
	make -C "$build" "${args[@]}"
	private_root_prepare
	make -C "$build" -s "${args[@]}" install DESTDIR="$CF_INSTALL_ROOT"
}

# ------------------------------------------------ other PostgreSQL majors
#
# Debian ships one PostgreSQL major per release: 15 in Debian 12
# (bookworm), 17 in 13 (trixie), 18 in unstable (sid).  A script asked for
# a major this machine does not have runs again inside a Debian root of the
# release that ships it: made once with debootstrap from Debian's registry
# (about two minutes and 2 GB each), kept in CF_PGROOT_CACHE (default
# /var/cache/cf-pgroots, outside any checkout) and reused.  The checkout's
# files (tracked or not ignored) are copied into the root's /cf for each
# run; the run's output is the script's own.  Needs root (chroot, mount).

CF_PGROOT_CACHE=${CF_PGROOT_CACHE:-/var/cache/cf-pgroots}

# pg_major_option ARG...: read "--pg N" off a script's arguments into
# CF_PG_MAJOR (and set CF_PG_MAJOR_GIVEN); the other arguments are left in
# CF_ARGS.
pg_major_option() {
	CF_ARGS=()
	while (($#)); do
		case $1 in
		--pg)
			(($# >= 2)) || die "--pg needs a PostgreSQL major (15, 16, 17 or 18)"
			pg_major_set "$2"
			shift 2
			;;
		--pg=*)
			pg_major_set "${1#--pg=}"
			shift
			;;
		*)
			CF_ARGS+=("$1")
			shift
			;;
		esac
	done
}

# pg_major_set N: switch this script to PostgreSQL major N.
pg_major_set() {
	[[ $1 =~ ^1[5-8]$ ]] || die "PostgreSQL major '$1': cf supports 15, 16, 17 and 18"
	export CF_PG_MAJOR=$1
	CF_PG_MAJOR_GIVEN=1
	PGBIN=/usr/lib/postgresql/$1/bin
	PG_CONFIG=$PGBIN/pg_config
	PGXS_DIR=/usr/lib/postgresql/$1/lib/pgxs
	PSQL=$PGBIN/psql
	if [[ -n ${CF_INSTALL_ROOT:-} ]]; then
		PGBIN=$CF_INSTALL_ROOT/usr/lib/postgresql/$1/bin
	fi
	CF_PACKAGES=(gcc make pkg-config "postgresql-$1" "postgresql-server-dev-$1"
		libopenblas-dev libipc-run-perl)
}

# pg_debian_suite N: the Debian release whose own PostgreSQL is major N.
pg_debian_suite() {
	case $1 in
	15) echo bookworm ;;
	17) echo trixie ;;
	18) echo sid ;;
	*) return 1 ;;
	esac
}

# pg_native N: true if major N runs here without a root: it is installed,
# or it is this Debian release's own.
pg_native() {
	local codename
	[[ -x /usr/lib/postgresql/$1/bin/postgres ]] && return 0
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[[ -n $codename && $(pg_debian_suite "$1" 2>/dev/null) == "$codename" ]]
}

# pg_root_dir N: where the root for major N lives.
pg_root_dir() {
	printf '%s/%s-pg%s\n' "$CF_PGROOT_CACHE" "$(pg_debian_suite "$1")" "$1"
}

# pg_root_ensure N: make the root for major N unless it is there (a root
# is complete once it holds .cf-pgroot-ready).
pg_root_ensure() {
	local m=$1 suite root
	suite=$(pg_debian_suite "$m") ||
		die "no Debian release ships PostgreSQL $m; build against its headers by hand (docs/install.md)"
	root=$(pg_root_dir "$m")
	[[ -f $root/.cf-pgroot-ready ]] && return 0
	[[ $EUID -eq 0 ]] || die "making a Debian root for PostgreSQL $m needs root"
	heading "Making a Debian $suite root for PostgreSQL $m in $root (once; a few minutes)"
	ensure_packages debootstrap
	rm -rf "$root.tmp"
	mkdir -p "$CF_PGROOT_CACHE"
	debootstrap --variant=minbase "$suite" "$root.tmp" http://deb.debian.org/debian ||
		die "debootstrap $suite failed"
	cp /etc/resolv.conf "$root.tmp/etc/resolv.conf" 2>/dev/null || true
	mount -t proc proc "$root.tmp/proc"
	# (sid's Release file may have passed its Valid-Until in a snapshot registry)
	if ! chroot "$root.tmp" env DEBIAN_FRONTEND=noninteractive sh -c "
		apt-get -q -o Acquire::Check-Valid-Until=false update &&
		apt-get install -y -q --no-install-recommends postgresql-$m postgresql-server-dev-$m \
			libopenblas-dev gcc make pkg-config libipc-run-perl"; then
		umount "$root.tmp/proc"
		die "installing PostgreSQL $m in the $suite root failed"
	fi
	umount "$root.tmp/proc"
	touch "$root.tmp/.cf-pgroot-ready"
	mv "$root.tmp" "$root"
}

# run_in_pg_root N SCRIPT ARG...: run SCRIPT (a path below the checkout)
# with ARG... inside the root for major N, as root, with CF_PG_MAJOR=N;
# returns its status.  CF_PGROOT_COPY: more files or directories to copy
# into the root's /cf.  /proc and /dev are mounted for the run and
# unmounted after it, unless CF_PGROOT_KEEP_MOUNTS is set (a demo cluster
# keeps running there).
run_in_pg_root() {
	local m=$1 script=$2 root rc=0
	shift 2
	pg_root_ensure "$m"
	root=$(pg_root_dir "$m")
	heading "PostgreSQL $m: running $script in $root"
	rm -rf "$root/cf"
	mkdir -p "$root/cf"
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard 2>/dev/null |
		xargs -0 -r cp --parents -t "$root/cf") 2>/dev/null ||
		cp -R "$TOP/." "$root/cf"
	# the vendored Citus, so that the root's test/check.sh can build it there
	local vendor
	if vendor=$(citus_vendor); then
		mkdir -p "$root/shared/vendor"
		cp "$vendor"/* "$root/shared/vendor/"
	fi
	if [[ -n ${CF_PGROOT_COPY:-} ]]; then
		# shellcheck disable=SC2086
		cp -R $CF_PGROOT_COPY "$root/cf/"
	fi
	mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
	mountpoint -q "$root/dev" || { mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"; }
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		TERM="${TERM:-dumb}" CF_PG_MAJOR="$m" CF_CHECK_PORT="${CF_CHECK_PORT:-}" \
		CF_DEMO_PORT="${CF_DEMO_PORT:-}" CF_DEMO_CALLER="${CF_DEMO_CALLER:-}" \
		bash "/cf/$script" "$@" || rc=$?
	if [[ -z ${CF_PGROOT_KEEP_MOUNTS:-} ]]; then
		pg_root_unmount "$m"
	fi
	return "$rc"
}

# pg_root_unmount N: unmount what run_in_pg_root mounted in the root.
pg_root_unmount() {
	local root
	root=$(pg_root_dir "$1")
	if mountpoint -q "$root/dev"; then umount -R "$root/dev" || umount -R -l "$root/dev"; fi
	if mountpoint -q "$root/proc"; then umount "$root/proc" || umount -l "$root/proc"; fi
}

# --------------------------------------------------------------- clusters

# cluster_paths NAME: set CF_BASE, CF_DATA, CF_SOCK, CF_LOG for cluster NAME.
cluster_paths() {
	CF_BASE=${CF_CLUSTER_DIR:-/tmp/cf-$1}
	CF_DATA=$CF_BASE/data
	CF_SOCK=$CF_BASE/socket
	CF_LOG=$CF_BASE/postgres.log
	# The paths go through pg_ctl's shell command line unquoted; keep them plain.
	if [[ $CF_BASE != /* || $CF_BASE =~ [^A-Za-z0-9/._+-] ]]; then
		die "cluster directory '$CF_BASE' must be an absolute path without spaces or quotes"
	fi
}

# cluster_running NAME: true if the cluster's server is up.
cluster_running() {
	cluster_paths "$1"
	[[ -d $CF_BASE ]] || return 1
	as_postgres "$PGBIN/pg_ctl" status -D "$CF_DATA" >/dev/null 2>&1
}

# cluster_start NAME PORT: start a fresh cluster NAME listening on the Unix
# socket CF_SOCK/.s.PGSQL.PORT only, and export PGHOST, PGPORT, PGUSER (and
# PGDATABASE=postgres) for it.  If the cluster is running it is stopped;
# its data directory is always wiped and made anew.
cluster_start() {
	local name=$1 port=$2 marker out
	[[ $port =~ ^[0-9]+$ ]] || die "bad port '$port'"
	cluster_paths "$name"
	marker=$CF_BASE/cf-cluster

	# Only reuse (and wipe) a directory that we made for this very cluster.
	if [[ -e $CF_BASE ]]; then
		if [[ -f $marker ]]; then
			if [[ $(cat "$marker") != "$name" ]]; then
				die "$CF_BASE holds cluster '$(cat "$marker")', not '$name'; unset CF_CLUSTER_DIR or pick another directory"
			fi
		elif [[ -n $(ls -A "$CF_BASE" 2>/dev/null) ]]; then
			die "$CF_BASE exists and is not a cf cluster directory; refusing to wipe it"
		fi
	fi

	if cluster_running "$name"; then
		note "cluster $name: already running; stopping it to start clean"
		as_postgres "$PGBIN/pg_ctl" stop -D "$CF_DATA" -m fast -s
	fi

	# The directory and everything in it belong to postgres.  Only the data
	# directory is private; the socket directory and the log are readable,
	# so that a non-root user (through sudo) can connect and read the log.
	as_root install -d -o postgres -g postgres -m 0755 "$CF_BASE"
	printf '%s\n' "$name" | as_postgres tee "$marker" >/dev/null
	as_postgres rm -rf "$CF_DATA"
	as_postgres rm -f "$CF_LOG"
	as_postgres install -d -m 0755 "$CF_SOCK"
	as_postgres install -m 0644 /dev/null "$CF_LOG"

	if ! out=$(as_postgres "$PGBIN/initdb" -D "$CF_DATA" -U postgres \
		--auth=trust --no-sync --locale=C -E UTF8 2>&1); then
		printf '%s\n' "$out" >&2
		die "initdb failed for cluster $name"
	fi

	# -w: wait until it accepts connections.  No TCP (listen_addresses=''),
	# so the port only names the socket file and cannot clash with another
	# server's.  fsync=off: it is a throwaway cluster.
	# CF_SERVER_ENV (words VAR=value) and CF_POSTGRES_WRAPPER (a program
	# run instead of postgres, with its arguments) are for test/memcheck.sh:
	# the server under valgrind, or with the sanitizers' runtime preloaded.
	local wrapper=()
	if [[ -n ${CF_POSTGRES_WRAPPER:-} ]]; then
		wrapper=(-p "$CF_POSTGRES_WRAPPER")
	fi
	# shellcheck disable=SC2086
	if ! as_postgres env ${CF_SERVER_ENV:-} "$PGBIN/pg_ctl" start -w -t "${CF_START_TIMEOUT:-60}" -s \
		-D "$CF_DATA" -l "$CF_LOG" "${wrapper[@]}" \
		-o "-p $port -k $CF_SOCK -c listen_addresses='' -c fsync=off ${CF_SERVER_OPTIONS:-}"; then
		tail -n 30 "$CF_LOG" >&2 || true
		die "cluster $name did not start (log: $CF_LOG)"
	fi

	export PGHOST=$CF_SOCK PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	printf 'export PGHOST=%s PGPORT=%s PGUSER=postgres\n' "$CF_SOCK" "$port" |
		as_postgres tee "$CF_BASE/env" >/dev/null
	note "cluster $name: running (socket $CF_SOCK, port $port, log $CF_LOG)"
}

# cluster_stop NAME: stop the cluster if it is running (fast shutdown).  The
# directory stays, log included, for a look after the fact; the next
# cluster_start wipes it.  Says nothing if the cluster was not running.
cluster_stop() {
	local name=$1
	if cluster_running "$name"; then
		as_postgres "$PGBIN/pg_ctl" stop -D "$CF_DATA" -m fast -s
		note "cluster $name: stopped (files kept in $CF_BASE)"
	fi
}

# run_psql ARGS...: the server's own psql, without psqlrc, stopping at the
# first error.
run_psql() {
	"$PSQL" -X -v ON_ERROR_STOP=1 "$@"
}

# Counting scripts (check.sh, memcheck.sh) keep PASSED, FAILED, RESULTS,
# CLUSTER_UP (set while their cluster runs), REPORTED (set once the final
# line is printed) and WORK (a scratch directory).

# record_counts LINE PASSED FAILED: add a suite's counts and its summary line.
record_counts() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	RESULTS+=("$1")
}

# counted_exit STATUS CLUSTER SCRIPT: the EXIT trap of a counting script:
# stop the cluster, drop the scratch directory, and make sure the last line
# is the count (an early failure counts as one more failure).
counted_exit() {
	local rc=$1 cluster=$2 script=$3
	trap - EXIT
	if [[ -n $CLUSTER_UP ]]; then
		cluster_stop "$cluster" || true
	fi
	rm -rf "$WORK"
	if [[ -z $REPORTED ]]; then
		note "$script: stopped early (exit status $rc); see above"
		note "$PASSED passed, $((FAILED + 1)) failed"
		((rc != 0)) || rc=1
	fi
	exit "$rc"
}

# Citus (the distributed engine of docs/scale-out.md), from the source
# tarball and build script in a vendor directory: CF_CITUS_VENDOR, else
# ../shared/vendor beside the checkout, else /work/shared/vendor (where a
# clone made elsewhere, as CI's, finds this machine's).  Never part of this
# repository.

# citus_vendor: the vendor directory with build-citus.sh, or nothing.
citus_vendor() {
	local d
	for d in ${CF_CITUS_VENDOR:-} "$TOP/../shared/vendor" /work/shared/vendor; do
		if [[ -x $d/build-citus.sh ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	return 1
}

# citus_available: true if Citus is installed for PG_CONFIG's server, or
# can be built: a vendored build script exists.
citus_available() {
	[[ -f $("$PG_CONFIG" --pkglibdir)/citus.so ]] || citus_vendor >/dev/null
}

# citus_ensure: build and install Citus for PG_CONFIG's server unless it is
# there (the vendored script does nothing when it is; one to five minutes).
citus_ensure() {
	local vendor
	[[ -f $("$PG_CONFIG" --pkglibdir)/citus.so ]] && return 0
	vendor=$(citus_vendor) || die "Citus is not installed and no vendored build script was found"
	heading "Building and installing Citus ($vendor)"
	as_root "$vendor/build-citus.sh" "$PG_CONFIG"
}

# citus_cluster_start NAME PORT: a Citus cluster of a coordinator and two
# workers on this machine, clusters NAME0 (PORT, the coordinator), NAME1
# and NAME2 (PORT + 1, PORT + 2), each with database DB (default cf) and
# the extensions citus and cf; the workers added over their private socket
# directories.  Exports PGHOST/PGPORT for the coordinator.
citus_cluster_start() {
	local name=$1 port=$2 db=${3:-cf} n sock
	local -a socks=()
	for n in 0 1 2; do
		CF_SERVER_OPTIONS="-c shared_preload_libraries=citus -c max_prepared_transactions=100 ${CF_SERVER_OPTIONS:-}" \
			cluster_start "$name$n" $((port + n)) >/dev/null
		socks+=("$CF_SOCK")
		run_psql -q -h "$CF_SOCK" -p $((port + n)) -d postgres -c "CREATE DATABASE $db"
		run_psql -q -h "$CF_SOCK" -p $((port + n)) -d "$db" \
			-c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" -c "CREATE EXTENSION cf"
	done
	run_psql -q -h "${socks[0]}" -p "$port" -d "$db" \
		-c "SELECT citus_set_coordinator_host('${socks[0]}', $port)" \
		-c "SELECT citus_add_node('${socks[1]}', $((port + 1)))" \
		-c "SELECT citus_add_node('${socks[2]}', $((port + 2)))" >/dev/null
	export PGHOST=${socks[0]} PGPORT=$port
	note "citus cluster $name: coordinator ${name}0 (port $port), workers ${name}1, ${name}2"
}

# citus_cluster_stop NAME: stop the three clusters of citus_cluster_start.
citus_cluster_stop() {
	local n
	for n in 2 1 0; do cluster_stop "$1$n"; done
}
