/*-------------------------------------------------------------------------
 *
 * blas.h
 *	  The BLAS and LAPACK entry points cf uses, from OpenBLAS.
 *
 * OpenBLAS ships cblas.h; LAPACK routines are declared here directly (the
 * Fortran calling convention: every argument by reference, trailing
 * hidden string lengths omitted as OpenBLAS's own lapack.h does).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_BLAS_H
#define CF_BLAS_H

#include <cblas.h>

/* OpenBLAS extensions: thread control. */
extern void openblas_set_num_threads(int num_threads);
extern int	openblas_get_num_threads(void);

/*
 * LAPACK, Fortran interface (column-major; OpenBLAS implements spotrf in C,
 * spotrs comes from reference LAPACK).
 */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a,
					const int *lda, float *b, const int *ldb, int *info);

#endif							/* CF_BLAS_H */
