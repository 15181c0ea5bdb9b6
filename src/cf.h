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

#ifdef CF_SANITIZE
/* A make SANITIZE=1 build: install the sanitizers' fmgr hooks (sanitize.c). */
extern void cf_sanitize_init(void);
#endif

#endif							/* CF_H */
