/*-------------------------------------------------------------------------
 *
 * cf.c
 *	  Module initialisation and settings of the cf extension.
 *
 * cf trains matrix-factorization recommenders from a ratings relation and
 * serves predictions and recommendations in SQL.  This file holds only the
 * module magic and the cf.* settings; see the other files of src/ for the
 * loader, the trainers, the model store and the scorer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "als.h"
#include "blas.h"
#include "cf.h"
#include "partial.h"
#include "sgd.h"

PG_MODULE_MAGIC;

/* The largest cf.cache_size, in megabytes: 2 TB. */
#define CF_CACHE_SIZE_MAX (2 * 1024 * 1024)

int			cf_blas_threads = 1;
int			cf_cache_size = 256;

void		_PG_init(void);

/* Apply cf.blas_threads to OpenBLAS (other BLAS libraries: no effect). */
static void
cf_blas_threads_assign(int newval, void *extra)
{
#ifdef CF_HAVE_OPENBLAS
	openblas_set_num_threads(newval);
#endif
}

/* Define the cf.* settings and reserve the prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("cf.blas_threads",
							"Sets the number of threads OpenBLAS may use in one backend.",
							"cf runs BLAS single-threaded by default; use parallel "
							"workers (the workers argument) for more cores. Builds "
							"with another BLAS library ignore it.",
							&cf_blas_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, cf_blas_threads_assign, NULL);

	DefineCustomIntVariable("cf.cache_size",
							"Sets the memory each backend may use to cache models' item factors.",
							"Scoring functions keep the item matrices of the models they "
							"serve in backend memory, least recently used evicted first; "
							"a model larger than this is read for every call. 0 disables the cache.",
							&cf_cache_size,
							256, 0, CF_CACHE_SIZE_MAX,
							PGC_USERSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("cf");

	/* The assign hook does not run for the boot value. */
	cf_blas_threads_assign(cf_blas_threads, NULL);

	/* the training kernels' variants for this CPU, the same in every process */
	cf_sgd_init_kernels();
	cf_als_init_kernels();
	cf_partial_init_kernels();

#ifdef CF_SANITIZE
	cf_sanitize_init();
#endif
}
