/*-------------------------------------------------------------------------
 *
 * sanitize.c
 *	  Default options of the sanitizers, for a build with make SANITIZE=1.
 *
 * Only compiled into that build (test/memcheck.sh asan).  The ASan runtime
 * comes in as a dependency of cf.so, loaded by dlopen after the server
 * started: it cannot be preloaded, since glibc's bindtextdomain() hangs at
 * the start of every PostgreSQL program when libasan is LD_PRELOADed on
 * Debian 12.  So ASan must not insist on being first in the library list,
 * and the options cannot come from ASAN_OPTIONS either: the runtime reads
 * the environment from /proc/self/environ, which the postmaster overwrites
 * with its process title.  Reports go to stderr, which is the server log.
 *
 * Without the runtime's interceptors, PostgreSQL's siglongjmp (every ERROR)
 * abandons instrumented frames without clearing their redzones' shadow, and
 * a later frame on the same stack would trip over that stale poison.  So an
 * fmgr hook, called before each of cf's SQL functions runs, clears the
 * shadow of the stack below the call (what __asan_handle_no_return does for
 * an intercepted longjmp).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "cf.h"

/* The ASan interface (sanitizer/asan_interface.h). */
extern void __asan_unpoison_memory_region(void const volatile *addr, size_t size);

/* How much stack below a call may hold stale shadow: max_stack_depth's limit. */
#define STALE_STACK (8 * 1024 * 1024)

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/* Whether a function is one of cf's C functions (or an earlier hook's). */
static bool
cf_needs_fmgr_hook(Oid fn_oid)
{
	HeapTuple	tp;
	bool		result = false;

	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (HeapTupleIsValid(tp))
	{
		bool		isnull;
		Datum		bin;

		if (((Form_pg_proc) GETSTRUCT(tp))->prolang == ClanguageId)
		{
			bin = SysCacheGetAttr(PROCOID, tp, Anum_pg_proc_probin, &isnull);
			if (!isnull)
			{
				char	   *path = TextDatumGetCString(bin);
				size_t		len = strlen(path);

				result = len >= 3 && strcmp(path + len - 3, "/cf") == 0;
			}
		}
		ReleaseSysCache(tp);
	}
	return result;
}

/* Before a cf function runs: clear stale shadow where its frames will go. */
static void __attribute__((no_sanitize_address))
cf_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (event == FHET_START)
	{
		char	   *here = (char *) __builtin_frame_address(0);

		/* the frames below this one, and this hook's caller's */
		__asan_unpoison_memory_region(here - STALE_STACK, STALE_STACK + 4096);
	}
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
}

/* Install the fmgr hooks (from _PG_init, in a SANITIZE=1 build only). */
void
cf_sanitize_init(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = cf_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = cf_fmgr_hook;
}

/* Options of AddressSanitizer (see docs/developers.md, "Memory checks"). */
extern const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "verify_asan_link_order=0:detect_leaks=0:halt_on_error=1:print_summary=1";
}

/* Options of UndefinedBehaviorSanitizer: report every error with a stack. */
extern const char *__ubsan_default_options(void);
const char *
__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=0:report_error_type=1";
}
