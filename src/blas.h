/*-------------------------------------------------------------------------
 *
 * blas.h
 *	  The BLAS and LAPACK entry points cf uses: OpenBLAS by default, any
 *	  CBLAS with LAPACK otherwise.
 *
 * The BLAS ships cblas.h; LAPACK routines are declared here directly (the
 * Fortran calling convention: every argument by reference, trailing
 * hidden string lengths omitted as OpenBLAS's own lapack.h does).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_BLAS_H
#define CF_BLAS_H

#include <cblas.h>

#ifdef CF_HAVE_OPENBLAS
/* OpenBLAS extensions: thread control (the Makefile defines CF_HAVE_OPENBLAS). */
extern void openblas_set_num_threads(int num_threads);
extern int	openblas_get_num_threads(void);
#endif

/*
 * LAPACK, Fortran interface (column-major; OpenBLAS implements spotrf in C,
 * spotrs comes from reference LAPACK).
 */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a,
					const int *lda, float *b, const int *ldb, int *info);
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
					const int *lda, double *b, const int *ldb, int *info);

#endif							/* CF_BLAS_H */
