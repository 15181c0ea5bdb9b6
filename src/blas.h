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

#endif							/* CF_BLAS_H */
