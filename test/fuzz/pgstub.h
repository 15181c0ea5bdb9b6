/*-------------------------------------------------------------------------
 *
 * pgstub.h
 *	  Minimal stand-ins for the PostgreSQL backend functions that cf's
 *	  input-checking code calls, for libFuzzer harnesses (test/memcheck.sh
 *	  fuzz).  Not part of the extension.
 *
 * The harnesses include a cf source file whole (to reach its static
 * functions) and link against pgstub.c.  What the stubs do:
 *
 *	- Memory contexts are real trees, but every palloc is its own malloc
 *	  with a header linking it into its context, so AddressSanitizer sees
 *	  each chunk's bounds, and resetting or deleting a context frees its
 *	  chunks (a use after reset is reported).
 *	- ereport/elog at ERROR or above long-jumps to the harness's
 *	  the harness's sigsetjmp (stub_jump); the message is kept in stub_errmsg and the SQLSTATE in
 *	  stub_errcode.  Lower levels are dropped.
 *	- binaryheap is a plain implementation of lib/binaryheap.h's API, and
 *	  ArrayGetNItems follows utils/adt/arrayutils.c's contract.
 *	- StringInfo, cstring_to_text, makeParamList, ItemPointerEquals,
 *	  MemoryContextSetParent and MemoryContextMemAllocated (the sum of the
 *	  chunks' sizes and headers) follow their backend contracts; schema
 *	  names are fixed strings.
 *	- SPI_connect makes a "SPI Proc" context under the current one and
 *	  switches to it, SPI_finish switches back and deletes it (with any
 *	  SPI_tuptable made there), and SPI_palloc allocates in the context
 *	  current at SPI_connect, as spi.c does.  Statements (SPI_execute...) are
 *	  the harnesses' own: each one delivers its fuzzed rows.
 *
 * Any other backend function cf's files reference is left unresolved
 * (linked with --unresolved-symbols=ignore-all): calling one crashes, which
 * the fuzzer reports, so a harness can only pass through code it stubs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_PGSTUB_H
#define CF_PGSTUB_H

#include "postgres.h"

#include <setjmp.h>

#include "executor/tuptable.h"

/* The last error raised: SQLSTATE (as made by MAKE_SQLSTATE) and text. */
extern int	stub_errcode;
extern char stub_errmsg[1024];

/* Where ereport(ERROR) jumps: set by the harness before each call. */
extern sigjmp_buf *stub_jump;

/*
 * How a harness runs code that may raise an ERROR:
 *
 *		sigjmp_buf	env;
 *
 *		stub_jump = &env;
 *		if (sigsetjmp(env, 0) == 0)
 *			{ ...code...; raised = false; }
 *		else
 *			raised = true;
 *
 * (variables changed inside and read after must be volatile).
 */

/* Free everything allocated since the last call (all contexts), and forget SPI. */
extern void stub_reset_memory(void);

/* Forget the SPI connections an ERROR left open (their memory is the caller's to free). */
extern void stub_spi_abort(void);

/* A virtual slot of natts columns over values and isnull, in CurrentMemoryContext. */
extern void stub_slot_init(TupleTableSlot *slot, int natts, Datum *values, bool *isnull);

#endif							/* CF_PGSTUB_H */
