/*-------------------------------------------------------------------------
 *
 * als_solve.c
 *	  The row solvers of ALS and iALS: one row's normal equations built
 *	  and solved, by Cholesky (8 rows at a time) or by conjugate gradient.
 *
 * als_run_half solves the blocks of a half-step that this process takes;
 * each block's rows go through run_rows_cholesky (build_matrix: the
 * gathered vectors' Gramian and right-hand side by the Gram kernel or
 * ssyrk; then the batched Cholesky of als_kernels.c, with LAPACK for a
 * lane that is not positive definite) or run_rows_cg (steps of conjugate
 * gradient in lockstep, products with the matrix from the kernels).  The
 * algorithms and their references are described atop als.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "als.h"
#include "bayes.h"
#include "blas.h"
#include "solve.h"
#include "util.h"

/* Bytes of one process's scratch space for d unknowns and this stride. */
Size
als_scratch_bytes(int d, int stride)
{
	Size		floats = cf_mul_size(GATHER_ROWS, d + 3);	/* A, coef, scale */
	Size		pointers = BATCH * (CG_CHUNK + 8);	/* CgRow.ptr */

	floats = cf_add_size(floats, cf_mul_size(BATCH + 2, cf_mul_size(d + 1, d + 1)));	/* G8; G0 (last) */
	floats = cf_add_size(floats, cf_mul_size(4 * BATCH + 2, stride + CF_LANES));	/* vectors */
	floats = cf_add_size(floats, cf_mul_size(batch_vectors(d) + d, BATCH)); /* batch, noise */
	floats = cf_add_size(floats, 3 * BATCH * (CG_CHUNK + 8));	/* CgRow.w, coef, u */
	return cf_add_size(cf_mul_size(pointers, sizeof(float *)),
					   cf_mul_size(floats, sizeof(float))) + 64;
}

/* Allocate a process's scratch space; slot: its AlsStats. */
void
als_alloc_scratch(AlsState *st, int slot)
{
	int			d = st->sh->d;
	int			stride = st->sh->stride;
	int			vlen = stride + CF_LANES;
	int			cap = CG_CHUNK + 8;
	void	   *base = palloc0(als_scratch_bytes(d, stride));
	float	   *w;

	st->scratch = base;
	w = base;
	st->A = w;
	w += (Size) GATHER_ROWS * (d + 1);
	st->coef = w;
	w += GATHER_ROWS;
	st->scale = w;
	w += GATHER_ROWS;
	st->G8 = st->G = w;
	w += (Size) (BATCH + 1) * (d + 1) * (d + 1);
	/* the last of G8: an identity, for the idle lanes of a batch */
	for (int c = 0; c < d; c++)
		st->G8[(Size) BATCH * (d + 1) * (d + 1) + (Size) c * (d + 2)] = 1.0f;
	st->x8 = st->x = w;
	w += (Size) BATCH * vlen;
	for (int j = 0; j < BATCH; j++)
	{
		st->cg[j].x = st->x8 + (Size) j * vlen;
		st->cg[j].r = w;
		st->cg[j].p = w + vlen;
		st->cg[j].Ap = w + 2 * vlen;
		w += 3 * vlen;
	}
	st->Ap = w;
	st->xs = w + vlen;
	w += 2 * vlen;
	st->batch = (v8 *) TYPEALIGN(32, w);
	st->noise = st->batch + batch_vectors(d);
	/* CG's arrays last (32-byte aligned after the batch and the noise) */
	st->cg[0].ptr = (const float **) (st->noise + d);
	for (int j = 1; j < BATCH; j++)
		st->cg[j].ptr = st->cg[j - 1].ptr + cap;
	w = (float *) (st->cg[BATCH - 1].ptr + cap);
	for (int j = 0; j < BATCH; j++)
	{
		st->cg[j].w = w;
		st->cg[j].coef = w + cap;
		st->cg[j].u = w + 2 * cap;
		w += 3 * cap;
	}
	st->G0 = w;
	st->my = &st->stats[Min(slot, st->sh->nprocs - 1)];
}

/*
 * Phase timing (DEBUG1 only) reports CPU seconds, so that other load on a
 * shared machine (time spent waiting for a core) does not count against
 * the rates.  The thread's CPU clock is a system call, though (about 2,000
 * cycles on the machine of docs/performance.md, a quarter of a batch's
 * Cholesky at k = 32), so the phases of each batch of BATCH rows are timed
 * with the monotonic clock (about 85 cycles), and at the end of each
 * half-step a process scales the phase seconds it added by its CPU time
 * over its wall time for the half-step (scale_phases).
 */

/* Seconds since *t, and *t set to now (monotonic clock). */
static double
lap(instr_time *t)
{
	instr_time	now;
	double		seconds;

	INSTR_TIME_SET_CURRENT(now);
	seconds = INSTR_TIME_GET_DOUBLE(now) - INSTR_TIME_GET_DOUBLE(*t);
	*t = now;
	return seconds;
}

/* Where a process's half-step began, for scale_phases. */
typedef struct PhaseMark
{
	double		cpu;			/* cf_thread_seconds() */
	instr_time	wall;
	double		gram_seconds;	/* the process's AlsStats then */
	double		solve_seconds;
} PhaseMark;

/* Start a half-step's phase timing. */
static void
mark_phases(AlsState *st, PhaseMark *m)
{
	m->cpu = cf_thread_seconds();
	INSTR_TIME_SET_CURRENT(m->wall);
	m->gram_seconds = st->my->gram_seconds;
	m->solve_seconds = st->my->solve_seconds;
}

/* Scale the phase seconds added since *m from wall to CPU time. */
static void
scale_phases(AlsState *st, const PhaseMark *m)
{
	double		cpu = cf_thread_seconds() - m->cpu;
	double		wall;
	double		r = 1.0;
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	wall = INSTR_TIME_GET_DOUBLE(now) - INSTR_TIME_GET_DOUBLE(m->wall);
	if (wall > 0 && cpu < wall)
		r = cpu / wall;
	st->my->gram_seconds = m->gram_seconds + (st->my->gram_seconds - m->gram_seconds) * r;
	st->my->solve_seconds = m->solve_seconds + (st->my->solve_seconds - m->solve_seconds) * r;
}

/*
 * Dot product of two vectors of n floats, in double, in eight partial sums
 * (a chain of n dependent additions would take longer than the products).
 */
static double
dot_d(const float *a, const float *b, int n)
{
	double		s[8] = {0};
	int			c = 0;

	for (; c + 8 <= n; c += 8)
		for (int l = 0; l < 8; l++)
			s[l] += (double) a[c + l] * b[c + l];
	for (; c < n; c++)
		s[0] += (double) a[c] * b[c];
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/*
 * Set up CG's passes over entries [e0, e0 + m) of row c of side s (m <=
 * CG_CHUNK): pointers to their vectors in c->ptr, their weights w_e in
 * c->w (alpha r_e for ials, 1 for als) and right-hand side coefficients in
 * c->coef (1 + alpha r_e, or r_e - mu - b_e).  The entries are padded to a
 * multiple of 8 with the first vector and zero weights; returns their
 * padded number.
 */
static int
cg_entries(AlsState *st, int s, CgRow *c, int64 e0, int m)
{
	AlsShared  *sh = st->sh;
	int			stride = sh->stride;
	const float *F = st->F[1 - s];
	const float *fbias = st->bias[1 - s];
	const int32 *col = st->col[s] + e0;
	const float *val = st->val[s] + e0;
	int			mp = entry_vectors(F, stride, col, m, c->ptr);
	float	   *w = c->w;
	float	   *coef = c->coef;
	float		alpha = (float) sh->alpha;
	float		mean = sh->mean;

	if (sh->implicit)
		for (int j = 0; j < m; j++)
		{
			w[j] = alpha * val[j];
			coef[j] = 1.0f + w[j];
		}
	else
		for (int j = 0; j < m; j++)
		{
			w[j] = 1.0f;
			coef[j] = val[j] - mean - fbias[col[j]];
		}
	for (int j = m; j < mp; j++)
	{
		w[j] = 0;
		coef[j] = 0;
	}
	return mp;
}

/*
 * One of CG's passes over the entries of row c of side s: out += A^T u
 * (row layout: for als the bias column's sum at out[stride]) with u_e =
 * w_e (a_e . v), or on the first pass u_e = coef_e - w_e (a_e . v), which
 * makes out b - A^T W A v in one pass.  The entries are those cg_entries
 * has set up for the whole row (c->whole), or else set up CG_CHUNK at a
 * time.
 */
static void
cg_pass(AlsState *st, int s, CgRow *c, const float *v, float *out, bool first)
{
	int			stride = st->sh->stride;
	bool		bias = !st->sh->implicit;
	float		vb = bias ? v[stride] : 0;
	float	   *u = c->u;
	const float *w = c->w;
	const float *coef = c->coef;
	v8			usum = {0};

	for (int64 e0 = c->lo; e0 < c->hi; e0 += CG_CHUNK)
	{
		int			mp = c->whole;

		CHECK_FOR_INTERRUPTS();
		if (!mp)
			mp = cg_entries(st, s, c, e0, (int) Min(c->hi - e0, CG_CHUNK));
		als_cg_dots(c->ptr, mp, stride, v, u);
		if (first)
			for (int j = 0; j < mp; j++)
				u[j] = coef[j] - w[j] * (u[j] + vb);
		else
			for (int j = 0; j < mp; j++)
				u[j] = w[j] * (u[j] + vb);
		if (bias)
			for (int j = 0; j < mp; j += 8)
				usum += V8(u + j);
		als_cg_axpys(c->ptr, mp, stride, u, out);
		if (c->whole)
			break;
	}
	if (bias)
		out[stride] += v8_hsum(&usum);
}

/* Flops of one product with a row's matrix over n entries. */
static double
matvec_flops(const AlsShared *sh, int64 n)
{
	return (sh->implicit ? 2.0 * sh->k * sh->k : 0) + 4.0 * n * sh->d + 2.0 * sh->d;
}

/*
 * c->Ap = G v for each of the n rows c of the batch (v its x if start,
 * else its p), by one product of G with all of them (ials); 0 for als.
 */
static void
cg_gram_products(AlsState *st, CgRow *const *c, int n, bool start)
{
	AlsShared  *sh = st->sh;
	const float *v[BATCH];
	float	   *out[BATCH];

	for (int j = 0; j < n; j++)
	{
		v[j] = start ? c[j]->x : c[j]->p;
		out[j] = c[j]->Ap;
		if (!sh->implicit)
			memset(out[j], 0, sizeof(float) * (sh->stride + CF_LANES));
	}
	if (sh->implicit)
		als_gram_products(st->gram, sh->k, sh->stride, v, out, n);
}

/*
 * Conjugate gradient on M x = b from the current x (Takacs, Pilaszy & Tikk
 * 2011, Algorithm 2) for row c of side s, M = G (ials) + sum_e w_e a_e
 * a_e^T + lambda I; vectors in row layout.  cg_start sets up the row's
 * entries and its residual r = b - M x from c->Ap = G x (the first pass
 * builds it directly); cg_step takes one step from c->Ap = G p.  A row is
 * done after cg_steps steps, or when r vanishes or p . M p is not
 * positive.
 */
static void
cg_start(AlsState *st, int s, CgRow *c)
{
	AlsShared  *sh = st->sh;
	int			vlen = sh->stride + CF_LANES;
	int64		n = c->hi - c->lo;

	c->whole = n <= CG_CHUNK ? cg_entries(st, s, c, c->lo, (int) n) : 0;
	memset(c->r, 0, sizeof(float) * vlen);
	cg_pass(st, s, c, c->x, c->r, true);
	for (int j = 0; j < vlen; j++)
	{
		c->r[j] -= c->Ap[j] + (float) c->lambda * c->x[j];
		c->p[j] = c->r[j];
	}
	c->rs = dot_d(c->r, c->r, vlen);
	c->done = !(c->rs > 1e-20);
	st->my->solve_flops += matvec_flops(sh, n) + 2.0 * n * sh->d + 4.0 * sh->d;
}

static void
cg_step(AlsState *st, int s, CgRow *c)
{
	AlsShared  *sh = st->sh;
	int			vlen = sh->stride + CF_LANES;
	float	   *x = c->x;
	float	   *r = c->r;
	float	   *p = c->p;
	float	   *Ap = c->Ap;
	double		pAp;
	double		a;
	double		rs_new;

	cg_pass(st, s, c, p, Ap, false);
	for (int j = 0; j < vlen; j++)
		Ap[j] += (float) c->lambda * p[j];
	pAp = dot_d(p, Ap, vlen);
	if (pAp <= 0)
	{
		c->done = true;
		return;
	}
	a = c->rs / pAp;
	for (int j = 0; j < vlen; j++)
	{
		x[j] += (float) a * p[j];
		r[j] -= (float) a * Ap[j];
	}
	rs_new = dot_d(r, r, vlen);
	for (int j = 0; j < vlen; j++)
		p[j] = r[j] + (float) (rs_new / c->rs) * p[j];
	c->rs = rs_new;
	c->done = !(rs_new > 1e-20);
	st->my->solve_flops += matvec_flops(sh, c->hi - c->lo) + 10.0 * sh->d;
}

/*
 * The right-hand side's coefficients of the m entries at col, val of a
 * row, as build_matrix gathers them, into coef[], and into scale[] the
 * factors their vectors are scaled by: for als (1, the target r_e - mu -
 * b_e), for ials with w_e = alpha r_e > 0 (sqrt(w_e), (1 + w_e) /
 * sqrt(w_e)), in a loop the compiler vectorizes (square roots and
 * divisions 4 at a time with SSE, the same results).
 */
static void
entry_coefs(const AlsShared *sh, const float *fbias, const int32 *col, const float *val,
			int m, float *restrict coef, float *restrict scale)
{
	if (sh->implicit)
	{
		float		alpha = (float) sh->alpha;

		for (int j = 0; j < m; j++)
		{
			float		w = alpha * val[j];
			float		sw = sqrtf(w);

			scale[j] = sw;
			coef[j] = (1.0f + w) / sw;
		}
	}
	else
		for (int j = 0; j < m; j++)
		{
			scale[j] = 1.0f;
			coef[j] = val[j] - sh->mean - fbias[col[j]];
		}
}

/*
 * Start of the matrices of a half-step's rows for Cholesky (ials): G0 is
 * the (d + 1) x (d + 1) matrix build_matrix starts each row from, the
 * Gramian in the d x d part (whole: the Gram kernel's diagonal blocks also
 * write above the diagonal, which nothing reads) and zeros in the last row
 * and column.  The Gram kernel's first call for a row reads it as it
 * writes the row's sums; the other paths copy it.
 */
static void
start_matrices(AlsState *st)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			ld = sh->d + 1;

	memset(st->G0, 0, sizeof(float) * ld * ld);
	for (int c = 0; c < k; c++)
		memcpy(st->G0 + (Size) c * ld, st->gram + (Size) c * sh->stride, sizeof(float) * k);
}

/*
 * For Cholesky: the matrix and right-hand side of row entries [lo, hi) of
 * side s in one (d + 1) x (d + 1) matrix G (lower triangle, column-major,
 * leading dimension d + 1, so that a column of it is a row of the upper
 * triangle the batched factorization packs): the other side's vectors are
 * gathered with one more column, so that one syrk gives both the d x d
 * matrix sum_e w_e a_e a_e^T (plus the Gramian for ials) and, in its last
 * row, b = sum_e coef_e a_e.  A row gathers as (a_e, 1, coef_e) for als,
 * and as sqrt(w_e) (a_e, coef_e / w_e) for ials (w_e = alpha r_e > 0).  The
 * syrk is the Gram kernel above (k a multiple of 8, AVX2; it gathers the
 * a_e itself, scaled, and takes the last columns as arrays), else ssyrk over
 * GATHER_ROWS gathered vectors at a time.
 */
static void
build_sums(AlsState *st, int s, int64 lo, int64 hi)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			d = sh->d;
	int			ld = d + 1;
	int			stride = sh->stride;
	const float *F = st->F[1 - s];
	const float *fbias = st->bias[1 - s];
	const int32 *col = st->col[s];
	const float *val = st->val[s];
	float		alpha = (float) sh->alpha;
	float	   *G = st->G;
	bool		kernel = als_gram != NULL && k % CF_LANES == 0 && !(sh->implicit && alpha == 0);

	/* (the Gram kernel's first call sets G itself) */
	if (!kernel || hi == lo)
	{
		if (sh->implicit)
			memcpy(G, st->G0, sizeof(float) * ld * ld);
		else
			memset(G, 0, sizeof(float) * ld * ld);
	}

	if (sh->implicit && alpha == 0)
	{
		/* every confidence is 1: the Gramian alone, b = sum of the vectors */
		for (int64 e = lo; e < hi; e++)
		{
			for (int c = 0; c < k; c++)
				G[(Size) c * ld + d] += F[(Size) col[e] * stride + c];
			if (((e - lo) & 0xFFFF) == 0xFFFF)
				CHECK_FOR_INTERRUPTS();
		}
		st->my->gram_flops += (double) (hi - lo) * d;
		return;
	}
	if (kernel)
	{
		/* the Gram kernel, GRAM_FLOATS of gathered vectors at a time */
		int			rows = Min(GATHER_ROWS, GRAM_FLOATS / k);

		for (int64 e0 = lo; e0 < hi; e0 += rows)
		{
			int			m = (int) Min(hi - e0, rows);

			/* (one row can have millions of entries) */
			CHECK_FOR_INTERRUPTS();
			entry_coefs(sh, fbias, col + e0, val + e0, m, st->coef, st->scale);
			als_gram(F, stride, col + e0, sh->implicit ? st->scale : NULL, st->coef, m,
						k, !sh->implicit, st->A, G, ld, sh->implicit ? st->G0 : NULL,
						e0 == lo);
			st->my->gram_flops += (double) m * ld * (ld + 1);
		}
		return;
	}
	for (int64 e0 = lo; e0 < hi; e0 += GATHER_ROWS)
	{
		int			m = (int) Min(hi - e0, GATHER_ROWS);

		CHECK_FOR_INTERRUPTS();
		entry_coefs(sh, fbias, col + e0, val + e0, m, st->coef, st->scale);
		for (int j = 0; j < m; j++)
		{
			int64		e = e0 + j;
			const float *f = F + (Size) col[e] * stride;
			float	   *a = st->A + (Size) j * ld;

			if (j + 8 < m)
				prefetch_row(F + (Size) col[e + 8] * stride, stride);
			if (sh->implicit)
			{
				for (int c = 0; c < k; c++)
					a[c] = st->scale[j] * f[c];
				a[k] = st->coef[j];
			}
			else
			{
				memcpy(a, f, sizeof(float) * k);
				a[k] = 1.0f;
				a[k + 1] = st->coef[j];
			}
		}
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, ld, m, 1.0f, st->A, ld,
					1.0f, G, ld);
		st->my->gram_flops += (double) m * ld * (ld + 1);
	}
}

/*
 * The matrix and right-hand side of a row (build_sums), and for bayes the
 * prior added to them: the half-step's Lambda / alpha to the matrix and
 * Lambda mu / alpha to the right-hand side (cf_bayes_prior's layout).
 */
static void
build_matrix(AlsState *st, int s, int32 row, int64 lo, int64 hi)
{
	int			d = st->sh->d;
	int			ld = d + 1;

	build_sums(st, s, lo, hi);
	if (st->sh->implicit_term && s == SIDE_USERS)
	{
		/*
		 * the targets less q_e . z_u, the user's implicit term: b -= M (z_u, 0)
		 * for the matrix M of the sums (its lower triangle)
		 */
		float	   *G = st->G;
		float	   *zpad = st->Ap;	/* (scratch: ials's alone) */

		memcpy(zpad, st->z + (Size) row * st->sh->k, sizeof(float) * st->sh->k);
		zpad[d - 1] = 0;
		cblas_ssymv(CblasColMajor, CblasLower, d, 1.0f, G, ld, zpad, 1, 0.0f, st->xs, 1);
		for (int r = 0; r < d; r++)
			G[(Size) r * ld + d] -= st->xs[r];
	}
	if (st->sh->bayes)
	{
		float	   *restrict G = st->G;
		const float *restrict prior = st->prior;

		/* each column's lower part, from the diagonal through the right-hand side */
		for (int c = 0; c < d; c++)
			for (int r = c; r < ld; r++)
				G[(Size) c * ld + r] += prior[(Size) c * ld + r];
	}
}

/*
 * Solve the system build_matrix left in st->G with ridge lambda into
 * st->xs (d floats): Cholesky (spotrf) on its d x d part, two triangular
 * solves (spotrs) on its last column.  If the matrix is not positive
 * definite (lambda = 0 and too few vectors), it is rebuilt and factored
 * once more with a tiny extra ridge, 1e-6 of its mean diagonal.
 */
static void
cholesky_row(AlsState *st, int s, int32 row, int64 lo, int64 hi, double lambda,
			 const float *noise)
{
	AlsShared  *sh = st->sh;
	int			d = sh->d;
	int			ld = d + 1;
	int			one = 1;
	int			info = 0;
	float	   *G = st->G;
	double		trace = 0;

	for (int c = 0; c < d; c++)
	{
		trace += G[(Size) c * ld + c];
		G[(Size) c * ld + c] += (float) lambda;
	}
	/* sums that overflowed: the training diverged, whatever the BLAS makes of them */
	if (!isfinite(trace))
		cf_divergence_error(0, 0, sh->iteration);
	spotrf_("L", &d, G, &ld, &info);
	if (info != 0)
	{
		build_matrix(st, s, row, lo, hi);
		for (int c = 0; c < d; c++)
			G[(Size) c * ld + c] += (float) cf_retry_ridge(lambda, trace, d);
		spotrf_("L", &d, G, &ld, &info);
		if (info != 0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("training failed in epoch %d: a system of normal equations is singular",
							sh->iteration + 1),
					 errhint("Raise regularization.")));
	}
	for (int c = 0; c < d; c++)
		st->xs[c] = G[(Size) c * ld + d];
	if (noise)
	{
		/* bayes: L^-T (L^-1 b + noise), a draw (als_batched_cholesky) */
		cblas_strsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, d, G, ld,
					st->xs, 1);
		for (int c = 0; c < d; c++)
			st->xs[c] += noise[c];
		cblas_strsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, d, G, ld,
					st->xs, 1);
	}
	else
	{
		spotrs_("L", &d, &one, G, &ld, st->xs, &d, &info);
		if (info != 0)
			elog(ERROR, "spotrs failed with info %d", info);
	}
	st->my->solve_flops += (double) d * d * d / 3 + 2.0 * d * d;
}

/* The ridge of a row with entries [lo, hi) of side s. */
static double
row_lambda(AlsState *st, int s, int64 lo, int64 hi)
{
	AlsShared  *sh = st->sh;

	if (sh->bayes)
		return 0;				/* the prior is in the matrix */
	if (sh->implicit)
	{
		double		total = 0;

		for (int64 e = lo; e < hi; e++)
			total += st->val[s][e];
		return sh->lambda * pow(sh->rows[1 - s] + sh->alpha * total, sh->exponent);
	}
	return sh->lambda * pow((double) (hi - lo), sh->exponent);
}

/*
 * Store row `row` of side s solved as st->x (row layout) and add its terms
 * of the objective to *sum.
 */
static void
finish_row(AlsState *st, int s, int32 row, int64 lo, int64 hi, double lambda, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			stride = sh->stride;
	float	   *x = st->x;

	if (sh->implicit_term && s == SIDE_USERS)
	{
		/* the user's vector is p_u + z_u (bayes.h) */
		const float *z = st->z + (Size) row * k;

		for (int c = 0; c < k; c++)
			x[c] += z[c];
	}
	memcpy(st->F[s] + (Size) row * stride, x, sizeof(float) * k);
	if (!sh->implicit)
		st->bias[s][row] = x[stride];
	if (sh->bayes && sh->iteration >= sh->burn_in)
	{
		/* a kept sample: its row added to the sums the model's mean is taken from */
		double	   *m = st->mean[s] + (Size) row * sh->d;

		for (int c = 0; c < k; c++)
			m[c] += x[c];
		m[k] += x[stride];
	}

	sum->penalty += lambda * dot_d(x, x, stride + CF_LANES);
	if (s == SIDE_USERS)
	{
		/* (scratch: the CG arrays of the batch's first row, solved by now) */
		als_objective(st->F[1 - s], st->bias[1 - s], stride, sh->implicit, sh->alpha,
						   sh->mean, st->col[s] + lo, st->val[s] + lo, hi - lo, x,
						   st->cg[0].ptr, st->cg[0].u, &sum->sse, &sum->sq);
		if (sh->implicit)
		{
			als_gram_products(st->gram, k, stride, (const float *const *) &x, &st->Ap, 1);
			sum->quad += dot_d(x, st->Ap, k);
		}
	}
}

/* st->x (row layout) from a Cholesky solution of d floats. */
static void
x_from_solution(AlsState *st, const float *xs)
{
	AlsShared  *sh = st->sh;

	memset(st->x, 0, sizeof(float) * (sh->stride + CF_LANES));
	memcpy(st->x, xs, sizeof(float) * sh->k);
	if (!sh->implicit)
		st->x[sh->stride] = xs[sh->k];
}

/* A row without entries (ials): its vector is 0. */
static void
zero_row(AlsState *st, int s, int32 row)
{
	memset(st->F[s] + (Size) row * st->sh->stride, 0, sizeof(float) * st->sh->k);
	st->bias[s][row] = 0;
}

/*
 * The next rows of side s from *row on (below r1) that have entries, BATCH
 * at most, into rows[] with their ridges in lambdas[]; rows without
 * entries on the way get the vector 0 (they add no terms: the order of the
 * sums holds).  *row moves past them; returns how many, 0 at r1.
 */
static int
next_batch(AlsState *st, int s, int32 *row, int32 r1, int32 *rows, double *lambdas)
{
	int			n = 0;

	for (; *row < r1 && n < BATCH; (*row)++)
	{
		int64		lo = st->start[s][*row];
		int64		hi = st->start[s][*row + 1];

		if (hi == lo)
			zero_row(st, s, *row);
		else
		{
			rows[n] = *row;
			lambdas[n++] = row_lambda(st, s, lo, hi);
		}
	}
	return n;
}

/*
 * bayes: the standard normal draws of the n rows of a batch, scaled by
 * alpha^-1/2, into st->noise (lane j: rows[j]; idle lanes 0), each row's
 * from its own seed (cf_bayes_seed of its place in the arena, which the
 * data alone fixes).
 */
static void
draw_noise(AlsState *st, int s, const int32 *rows, int n)
{
	AlsShared  *sh = st->sh;
	double		scale = 1 / sqrt(sh->precision);

	float	   *z = st->xs;		/* (scratch of d floats, free here) */

	memset(st->noise, 0, sizeof(v8) * sh->d);
	for (int lane = 0; lane < n; lane++)
	{
		pg_prng_state rng;

		pg_prng_seed(&rng, cf_bayes_seed(sh->seed, sh->iteration, s, rows[lane]));
		cf_normals(&rng, z, sh->d, scale);
		for (int c = 0; c < sh->d; c++)
			st->noise[c][lane] = z[c];
	}
}

/*
 * Solve rows [r0, r1) of side s by Cholesky, BATCH at a time (see
 * batched_cholesky): the matrices, then the factorizations and solves,
 * then the objective, one clock read per phase; the objective's terms go
 * to *sum in row order.
 */
static void
run_rows_cholesky(AlsState *st, int s, int32 r0, int32 r1, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			d = sh->d;
	int32		rows[BATCH];
	double		lambdas[BATCH];
	int			n;
	int32		row = r0;
	float	   *xs = st->xs;
	Size		gsize = (Size) (d + 1) * (d + 1);
	const float *sol = (const float *) (st->batch + packed_row(d, d) + d);

	st->x = st->x8;
	while ((n = next_batch(st, s, &row, r1, rows, lambdas)) > 0)
	{
		instr_time	t;
		int			failed;

		INSTR_TIME_SET_ZERO(t);
		if (sh->timing)
			INSTR_TIME_SET_CURRENT(t);
		for (int lane = 0; lane < n; lane++)
		{
			st->G = st->G8 + (Size) lane * gsize;
			build_matrix(st, s, rows[lane], st->start[s][rows[lane]],
						 st->start[s][rows[lane] + 1]);
		}
		if (sh->timing)
			st->my->gram_seconds += lap(&t);
		for (int lane = n; lane < BATCH; lane++)
		{
			/* idle lanes: the identity, right-hand side 0 */
			memcpy(st->G8 + (Size) lane * gsize, st->G8 + (Size) BATCH * gsize,
				   sizeof(float) * gsize);
			lambdas[lane] = 0;
		}
		als_interleave(st->batch, st->G8, d, lambdas);
		if (sh->bayes)
			draw_noise(st, s, rows, n);
		failed = als_batched_cholesky(st->batch, d, sh->bayes ? st->noise : NULL);
		st->my->solve_flops += n * ((double) d * d * d / 3 + 2.0 * d * d);
		if (sh->timing)
			st->my->solve_seconds += lap(&t);
		for (int lane = 0; lane < n; lane++)
		{
			int64		lo = st->start[s][rows[lane]];
			int64		hi = st->start[s][rows[lane] + 1];

			if (failed & (1 << lane))
			{
				/* not positive definite in float: LAPACK, with a tiny ridge if need be */
				float	   *noise = NULL;

				if (sh->bayes)
				{
					noise = palloc(sizeof(float) * d);
					for (int c = 0; c < d; c++)
						noise[c] = st->noise[c][lane];
				}
				st->G = st->G8;
				build_matrix(st, s, rows[lane], lo, hi);
				cholesky_row(st, s, rows[lane], lo, hi, lambdas[lane], noise);
				if (noise)
					pfree(noise);
			}
			else
				for (int c = 0; c < d; c++)
					xs[c] = sol[(Size) c * BATCH + lane];
			x_from_solution(st, xs);
			finish_row(st, s, rows[lane], lo, hi, lambdas[lane], sum);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Solve rows [r0, r1) of side s by CG, BATCH at a time (the solves, then
 * the objective: one clock read per phase), adding the objective's terms
 * to *sum in row order.  The rows of a batch take their steps in lockstep
 * (step 1 of each, then step 2 of each, ...), so that the Gramian's part of
 * their products is one product of G with all their vectors
 * (cg_gram_products); each row's other operations are those of a row
 * solved alone.
 */
static void
run_rows_cg(AlsState *st, int s, int32 r0, int32 r1, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			stride = sh->stride;
	int			vlen = stride + CF_LANES;
	int32		rows[BATCH];
	double		lambdas[BATCH];
	CgRow	   *active[BATCH];
	int			n;
	int32		row = r0;

	while ((n = next_batch(st, s, &row, r1, rows, lambdas)) > 0)
	{
		instr_time	t;

		INSTR_TIME_SET_ZERO(t);
		if (sh->timing)
			INSTR_TIME_SET_CURRENT(t);
		for (int j = 0; j < n; j++)
		{
			CgRow	   *c = &st->cg[j];

			/* warm start: the row's current vector */
			memset(c->x, 0, sizeof(float) * vlen);
			memcpy(c->x, st->F[s] + (Size) rows[j] * stride, sizeof(float) * sh->k);
			if (!sh->implicit)
				c->x[stride] = st->bias[s][rows[j]];
			c->lo = st->start[s][rows[j]];
			c->hi = st->start[s][rows[j] + 1];
			c->lambda = lambdas[j];
			active[j] = c;
		}
		cg_gram_products(st, active, n, true);
		for (int j = 0; j < n; j++)
			cg_start(st, s, active[j]);
		for (int step = 0; step < sh->cg_steps; step++)
		{
			int			na = 0;

			for (int j = 0; j < n; j++)
				if (!st->cg[j].done)
					active[na++] = &st->cg[j];
			if (na == 0)
				break;
			cg_gram_products(st, active, na, false);
			for (int j = 0; j < na; j++)
				cg_step(st, s, active[j]);
		}
		if (sh->timing)
			st->my->solve_seconds += lap(&t);
		for (int j = 0; j < n; j++)
		{
			st->x = st->x8 + (Size) j * vlen;
			finish_row(st, s, rows[j], st->start[s][rows[j]], st->start[s][rows[j] + 1],
					   lambdas[j], sum);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * bayes with the implicit term, before its draws: the error of every
 * user entry under the current model into e (the users' lists' order),
 * and the users' vectors from p_u + z_u back to p_u.
 */
void
als_implicit_errors(AlsState *st, float *e)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			stride = sh->stride;
	const float *Q = st->F[SIDE_ITEMS];
	const float *ibias = st->bias[SIDE_ITEMS];
	const int64 *start = st->start[SIDE_USERS];
	const int32 *col = st->col[SIDE_USERS];
	const float *val = st->val[SIDE_USERS];
	const float **ptr = st->cg[0].ptr;	/* (scratch: CG's) */
	float	   *yhat = st->cg[0].u;

	for (int32 u = 0; u < sh->rows[SIDE_USERS]; u++)
	{
		float	   *p = st->F[SIDE_USERS] + (Size) u * stride;
		const float *z = st->z + (Size) u * k;
		float		b = sh->mean + st->bias[SIDE_USERS][u];

		for (int64 e0 = start[u]; e0 < start[u + 1]; e0 += CG_CHUNK)
		{
			int			m = (int) Min(start[u + 1] - e0, CG_CHUNK);
			int			mp = entry_vectors(Q, stride, col + e0, m, ptr);

			als_cg_dots(ptr, mp, stride, p, yhat);
			for (int j = 0; j < m; j++)
				e[e0 + j] = val[e0 + j] - (b + ibias[col[e0 + j]] + yhat[j]);
		}
		for (int c = 0; c < k; c++)
			p[c] -= z[c];
		if ((u & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* Solve the blocks of side s that this process takes. */
void
als_run_half(AlsState *st, int s)
{
	AlsShared  *sh = st->sh;
	uint32		block;
	PhaseMark	mark = {0};		/* (set when timing: zeroed for the compiler) */

	if (sh->timing)
		mark_phases(st, &mark);
	if (sh->implicit && sh->solver == CF_SOLVER_CHOLESKY)
		start_matrices(st);
	while ((block = pg_atomic_fetch_add_u32(&sh->next, 1)) < sh->nblocks[s])
	{
		AlsSums		sum = {0};
		int32		r0 = st->blocks[s][block];
		int32		r1 = st->blocks[s][block + 1];

		if (sh->solver == CF_SOLVER_CHOLESKY)
			run_rows_cholesky(st, s, r0, r1, &sum);
		else
			run_rows_cg(st, s, r0, r1, &sum);
		st->sums[s][block] = sum;
	}
	if (sh->timing)
		scale_phases(st, &mark);
}

