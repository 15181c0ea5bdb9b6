/*-------------------------------------------------------------------------
 *
 * cf.h
 *	  Module-wide settings of the cf extension (the cf.* GUCs).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_H
#define CF_H

/* cf.blas_threads: threads OpenBLAS may use inside one backend. */
extern int	cf_blas_threads;

/* cf.cache_size: megabytes of factor cache per backend (0: no cache). */
extern int	cf_cache_size;

#endif							/* CF_H */
