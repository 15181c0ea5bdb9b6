/*-------------------------------------------------------------------------
 *
 * partial.c
 *	  ALS and iALS half-steps as SQL: the sums of a row's normal equations
 *	  as aggregates that can be computed in parts and combined, and the
 *	  solves.
 *
 * ALS (als.c) solves each row of one side, with the other side fixed, from
 * the normal equations of its ratings: with a_e = (f_e, 1) for the other
 * side's vector f_e and bias of each rating e, and the target
 * c_e = r_e - mu - bias_e,
 *
 *		(sum_e a_e a_e^T + lambda n^nu I) x = sum_e c_e a_e
 *
 * iALS (Hu, Koren & Volinsky 2008; als.c) solves, with weights
 * w_e = alpha r_e,
 *
 *		(F^T F + sum_e w_e f_e f_e^T + lambda (rows + sum_e w_e)^nu I) x
 *			= sum_e (1 + w_e) f_e
 *
 * where F^T F, the Gramian of all the other side's vectors, is one sum
 * over that side.  All of these are additive over any split of the rows
 * summed, so they can be formed where the ratings lie and added up
 * elsewhere: cf_als_sums, cf_ials_sums and cf_gram are aggregates whose
 * state is those sums, with a combine function, so PostgreSQL's parallel
 * query computes them in parts on parallel workers, and Citus, for a group
 * that is not its distribution column, on each shard (partial
 * aggregation), adding the parts on the coordinator; cf_als_solve and
 * cf_ials_solve then give the row.  The states are bytea, not internal:
 * Citus ships the parts of custom aggregates only for states with a text
 * form (and bytea's is compact).
 *
 * State: a CfSums header (its kind, k, the rows summed and for iALS the
 * weights' sum), then a packed lower triangle in single precision, as
 * ALS's own sums are (als_solve.c): for ALS of g g^T with g = (f_e, 1,
 * c_e), order k + 2 (2.4 kB at k = 32; 4.8 kB as Citus ships it, in
 * bytea's hex form); for iALS sum w_e f_e f_e^T with sum (1 + w_e) f_e
 * and sum f_e as its last two rows (the last for the unweighted fit that
 * cf_train on Citus reports), order k + 2; for the Gramian, order k.  The
 * solves are in double.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "blas.h"
#include "partial.h"
#include "simd.h"
#include "train.h"
#include "solve.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_als_sums_accum);
PG_FUNCTION_INFO_V1(cf_sums_combine);
PG_FUNCTION_INFO_V1(cf_als_solve);
PG_FUNCTION_INFO_V1(cf_ials_sums_accum);
PG_FUNCTION_INFO_V1(cf_gram_accum);
PG_FUNCTION_INFO_V1(cf_ials_solve);
PG_FUNCTION_INFO_V1(cf_als_solve_rated);
PG_FUNCTION_INFO_V1(cf_ials_solve_rated);

/* The kinds of state (CfSums.kind), each a packed lower triangle. */
#define SUMS_ALS	'a'			/* g = (f_e, 1, c_e): order k + 2 */
#define SUMS_IALS	'i'			/* w_e f_e f_e^T; rows (1 + w_e) f_e, f_e: order k + 2 */
#define SUMS_GRAM	'g'			/* f f^T over a side's vectors: order k */

/* The header of a state; the packed triangle follows. */
typedef struct CfSums
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		kind;			/* SUMS_* */
	int16		k;				/* factors */
	int64		n;				/* ratings (vectors) summed */
	double		weight;			/* ials: sum of the weights alpha r */
	float		sum[FLEXIBLE_ARRAY_MEMBER];
} CfSums;

/* Order of the packed triangle of a kind of state for k factors. */
static int
sums_order(int kind, int k)
{
	return kind == SUMS_ALS || kind == SUMS_IALS ? k + 2 : k;
}

/* Numbers of the packed triangle of a kind of state for k factors. */
static Size
sums_length(int kind, int k)
{
	Size		m = sums_order(kind, k);

	return m * (m + 1) / 2;
}

/* Where row i of the packed triangle starts. */
static inline Size
tri_row(int i)
{
	return (Size) i * (i + 1) / 2;
}

/* A zeroed state of this kind for k factors, in the current memory context. */
static CfSums *
sums_new(int kind, int k)
{
	Size		size = offsetof(CfSums, sum) + sums_length(kind, k) * sizeof(float);
	CfSums	   *s = palloc0(size);

	SET_VARSIZE(s, size);
	s->kind = kind;
	s->k = k;
	return s;
}

/* The aggregate that makes a kind of state. */
static const char *
sums_aggregate(int kind)
{
	return kind == SUMS_ALS ? "cf_als_sums" : kind == SUMS_IALS ? "cf_ials_sums" : "cf_gram";
}

/*
 * The state of a bytea datum, checked: a corrupt part is an error, not a
 * read past its end; kind 0 takes any kind.
 */
static CfSums *
sums_check(bytea *b, int kind)
{
	CfSums	   *s = (CfSums *) b;

	if (VARSIZE(b) < offsetof(CfSums, sum) ||
		(s->kind != SUMS_ALS && s->kind != SUMS_IALS && s->kind != SUMS_GRAM) ||
		s->k < 1 || s->k > CF_MAX_FACTORS || s->n < 0 ||
		VARSIZE(b) != offsetof(CfSums, sum) + sums_length(s->kind, s->k) * sizeof(float))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid partial sums of a half-step"),
				 errdetail("The value is not a state of cf_als_sums, cf_ials_sums or cf_gram.")));
	if (kind != 0 && s->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partial sums of %s where %s are needed",
						sums_aggregate(s->kind), sums_aggregate(kind))));
	return s;
}

/*
 * The state to add a row to: a new one (state NULL), the aggregate's own
 * (updated in place), or a copy of one from outside; checked against the
 * kind and k.
 */
static CfSums *
sums_for_update(FunctionCallInfo fcinfo, int kind, int k)
{
	CfSums	   *s;

	if (PG_ARGISNULL(0))
		return sums_new(kind, k);
	s = sums_check(PG_GETARG_BYTEA_P(0), kind);
	if (s->k != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("A vector of %d numbers follows vectors of %d.", k, s->k)));
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		/* not an aggregate's own state: change a copy */
		CfSums	   *copy = palloc(VARSIZE(s));

		memcpy(copy, s, VARSIZE(s));
		s = copy;
	}
	return s;
}

/* The k floats of a real[] vector argument; error if it is not one. */
static const float *
vector_arg(ArrayType *a, int *k)
{
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != FLOAT4OID ||
		ARR_DIMS(a)[0] < 1 || ARR_DIMS(a)[0] > CF_MAX_FACTORS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a factor vector must be a one-dimensional real array of 1 to %d numbers without nulls",
						CF_MAX_FACTORS)));
	*k = ARR_DIMS(a)[0];
	return (const float *) ARR_DATA_PTR(a);
}

/*
 * sum (packed triangle) += scale g g^T over the first m numbers of g: each
 * row's first multiple of 8 numbers as vectors (simd.h; unaligned, as the
 * packed rows start anywhere), the rest one by one.  A kernel: the
 * transition functions spend most of their time here (a rank-one update
 * per rating).
 */
static pg_attribute_always_inline void
tri_add_body(float *sum, const float *g, int m, float scale)
{
	for (int i = 0; i < m; i++)
	{
		float	   *restrict row = sum + tri_row(i);
		float		gi = scale * g[i];
		v8			gv = {gi, gi, gi, gi, gi, gi, gi, gi};
		int			j = 0;

		for (; j + 8 <= i + 1; j += 8)
			V8W(row + j) += gv * V8(g + j);
		for (; j <= i; j++)
			row[j] += gi * g[j];
	}
}

CF_KERNEL_VOID(tri_add, (float *sum, const float *g, int m, float scale), (sum, g, m, scale));

/* Point the kernels of this file at the variants this CPU runs (simd.h). */
void
cf_partial_init_kernels(void)
{
	CF_CHOOSE_KERNEL(tri_add);
}

/* Add a rating of the vector f (k numbers) with this bias to ALS sums. */
static inline void
als_add(CfSums *s, const float *f, float bias, double rating, double mean)
{
	int			k = s->k;
	float		g[CF_MAX_FACTORS + 2];

	for (int c = 0; c < k; c++)
		g[c] = f[c];
	g[k] = 1;
	g[k + 1] = (float) (rating - mean - bias);
	tri_add(s->sum, g, k + 2, 1.0f);
	s->n++;
}

/* Add a pair of the vector f (k numbers) with weight w = alpha r to iALS sums. */
static inline void
ials_add(CfSums *s, const float *f, double w)
{
	int			k = s->k;

	tri_add(s->sum, f, k, (float) w);
	for (int j = 0; j < k; j++)
	{
		s->sum[tri_row(k) + j] += (float) ((1 + w) * f[j]);
		s->sum[tri_row(k + 1) + j] += f[j];
	}
	s->weight += w;
	s->n++;
}

/* A transition's result when its row is left out: the state as it was. */
static Datum
sums_unchanged(FunctionCallInfo fcinfo, int kind)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(sums_check(PG_GETARG_BYTEA_P(0), kind));
}

/*
 * cf_als_sums_accum(state bytea, factors real[], bias real, rating float8,
 *					 mean float8): the transition function of cf_als_sums.
 * A rating with a NULL argument is left out.  In an aggregate the state is
 * updated in place.
 */
Datum
cf_als_sums_accum(PG_FUNCTION_ARGS)
{
	CfSums	   *s;
	const float *f;
	int			k;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		return sums_unchanged(fcinfo, SUMS_ALS);
	f = vector_arg(PG_GETARG_ARRAYTYPE_P(1), &k);
	s = sums_for_update(fcinfo, SUMS_ALS, k);
	als_add(s, f, PG_GETARG_FLOAT4(2), PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4));
	PG_RETURN_BYTEA_P(s);
}

/*
 * cf_ials_sums_accum(state bytea, factors real[], amount float8, alpha
 * float8): the transition function of cf_ials_sums.  A pair with a NULL
 * argument or an amount that is not positive is left out (iALS keeps
 * only pairs whose amounts sum above 0: give one row per pair).
 */
Datum
cf_ials_sums_accum(PG_FUNCTION_ARGS)
{
	CfSums	   *s;
	const float *f;
	int			k;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || !(PG_GETARG_FLOAT8(2) > 0))
		return sums_unchanged(fcinfo, SUMS_IALS);
	f = vector_arg(PG_GETARG_ARRAYTYPE_P(1), &k);
	s = sums_for_update(fcinfo, SUMS_IALS, k);
	ials_add(s, f, PG_GETARG_FLOAT8(3) * PG_GETARG_FLOAT8(2));
	PG_RETURN_BYTEA_P(s);
}

/* cf_gram_accum(state bytea, factors real[]): the transition function of cf_gram. */
Datum
cf_gram_accum(PG_FUNCTION_ARGS)
{
	CfSums	   *s;
	const float *f;
	int			k;

	if (PG_ARGISNULL(1))
		return sums_unchanged(fcinfo, SUMS_GRAM);
	f = vector_arg(PG_GETARG_ARRAYTYPE_P(1), &k);
	s = sums_for_update(fcinfo, SUMS_GRAM, k);
	tri_add(s->sum, f, k, 1.0f);
	s->n++;
	PG_RETURN_BYTEA_P(s);
}

/*
 * cf_sums_combine(bytea, bytea): the combine function of cf_als_sums, the
 * two states' sums (in place in an aggregate).
 */
Datum
cf_sums_combine(PG_FUNCTION_ARGS)
{
	CfSums	   *s;
	CfSums	   *t;
	MemoryContext aggcontext;
	bool		inagg;
	Size		len;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(sums_check(PG_GETARG_BYTEA_P(0), 0));
	}
	t = sums_check(PG_GETARG_BYTEA_P(1), 0);
	inagg = AggCheckCallContext(fcinfo, &aggcontext);
	if (PG_ARGISNULL(0))
	{
		/* the first part: a copy, in the aggregate's context */
		s = MemoryContextAlloc(inagg ? aggcontext : CurrentMemoryContext, VARSIZE(t));
		memcpy(s, t, VARSIZE(t));
		PG_RETURN_BYTEA_P(s);
	}
	s = sums_check(PG_GETARG_BYTEA_P(0), t->kind);
	if (s->k != t->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("Sums of vectors of %d numbers meet sums of %d.", t->k, s->k)));
	if (!inagg)
	{
		/* not an aggregate's own state: add into a copy */
		CfSums	   *copy = palloc(VARSIZE(s));

		memcpy(copy, s, VARSIZE(s));
		s = copy;
	}
	len = sums_length(s->kind, s->k);
	for (Size j = 0; j < len; j++)
		s->sum[j] += t->sum[j];
	s->n += t->n;
	s->weight += t->weight;
	PG_RETURN_BYTEA_P(s);
}

/*
 * Solve (M + ridge I) x = b in double for the d x d matrix M (column-major,
 * in full) and b, into x; M and b are overwritten.  Not positive definite
 * (ridge 0, too few vectors): a tiny ridge once more, from Mcopy.
 */
static void
solve_system(double *M, const double *Mcopy, double *b, int d, double ridge, float *x)
{
	double		trace = 0;
	bool		finite = true;
	int			info = 0;
	int			one = 1;

	for (int i = 0; i < d; i++)
	{
		trace += M[(Size) i * d + i];
		finite = finite && isfinite(b[i]);
	}
	if (!finite || !isfinite(trace))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the normal equations of a row are not finite"),
				 errdetail("A factor, bias, rating or amount summed was infinite or NaN, or the sums overflowed.")));
	for (int i = 0; i < d; i++)
		M[(Size) i * d + i] += ridge;
	dpotrf_("L", &d, M, &d, &info);
	if (info != 0)
	{
		double		retry = cf_retry_ridge(ridge, trace, d);

		memcpy(M, Mcopy, sizeof(double) * d * d);
		for (int i = 0; i < d; i++)
			M[(Size) i * d + i] += ridge + retry;
		dpotrf_("L", &d, M, &d, &info);
		if (info != 0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the normal equations of a row are singular"),
					 errhint("Raise regularization.")));
	}
	dpotrs_("L", &d, &one, M, &d, b, &d, &info);
	if (info != 0)
		elog(ERROR, "dpotrs failed with info %d", info);
	for (int i = 0; i < d; i++)
		x[i] = (float) b[i];
}

/* M (full, column-major, order d) += the packed lower triangle's first d rows. */
static void
add_triangle(double *M, const float *tri, int d)
{
	for (int i = 0; i < d; i++)
		for (int j = 0; j <= i; j++)
		{
			double		v = tri[tri_row(i) + j];

			M[(Size) j * d + i] += v;
			if (i != j)
				M[(Size) i * d + j] += v;
		}
}

/* A real[] of the d floats of x. */
static ArrayType *
float4_array(const float *x, int d)
{
	Datum	   *elems = palloc(sizeof(Datum) * d);

	for (int i = 0; i < d; i++)
		elems[i] = Float4GetDatum(x[i]);
	return construct_array(elems, d, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

/*
 * The row of order d whose matrix is the first d rows of the packed
 * triangle tri (plus those of extra, if not NULL) and whose right-hand
 * side is tri's row d, with this ridge, as a real[].
 */
static ArrayType *
solve_row(const float *tri, const float *extra, int d, double lambda, double exponent,
		  double count)
{
	double	   *M = palloc0(sizeof(double) * d * d);
	double	   *Mcopy = palloc(sizeof(double) * d * d);
	double	   *b = palloc(sizeof(double) * d);
	float	   *x = palloc(sizeof(float) * d);

	cf_check_float_arg("regularization", lambda, 0, false, 1000);
	cf_check_float_arg("regularization_exponent", exponent, 0, false, 1);
	add_triangle(M, tri, d);
	if (extra)
		add_triangle(M, extra, d);
	for (int i = 0; i < d; i++)
		b[i] = tri[tri_row(d) + i];
	memcpy(Mcopy, M, sizeof(double) * d * d);
	solve_system(M, Mcopy, b, d, lambda * pow(count, exponent), x);
	return float4_array(x, d);
}

/* x^T T x for the packed lower triangle T of order d (its first d rows). */
static double
tri_quad(const float *tri, const float *x, int d)
{
	double		quad = 0;

	for (int i = 0; i < d; i++)
	{
		const float *row = tri + tri_row(i);
		double		off = 0;

		for (int j = 0; j < i; j++)
			off += (double) row[j] * x[j];
		quad += (double) x[i] * (2 * off + (double) row[i] * x[i]);
	}
	return quad;
}

/* x . (row r of the packed triangle tri), over its first d numbers. */
static double
tri_dot_row(const float *tri, int r, const float *x, int d)
{
	double		dot = 0;

	for (int j = 0; j < d; j++)
		dot += (double) tri[tri_row(r) + j] * x[j];
	return dot;
}

/*
 * (partial.h) Solve a cf_als_sums state of k factors into x (k factors,
 * then the bias), as cf_als_solve does; *sse gets the squared error of the
 * row's ratings with x, c - 2 x.b + x^T A x from the same sums, and *n
 * the ratings summed.
 */
void
cf_als_sums_solve(bytea *sums, int k, double lambda, double exponent, float *x,
				  double *sse, int64 *n)
{
	CfSums	   *s = sums_check(sums, SUMS_ALS);
	int			d = k + 1;
	ArrayType  *a;

	if (s->k != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("The sums have vectors of %d numbers where %d are needed.",
						   (int) s->k, k)));
	a = solve_row(s->sum, NULL, d, lambda, exponent, (double) s->n);
	memcpy(x, ARR_DATA_PTR(a), sizeof(float) * d);
	pfree(a);
	*sse = Max((double) s->sum[tri_row(d) + d] - 2 * tri_dot_row(s->sum, d, x, d) +
			   tri_quad(s->sum, x, d), 0);
	*n = s->n;
}

/*
 * (partial.h) A Gramian state (cf_gram's) of rows vectors of k factors
 * laid out with this stride, in the current memory context.
 */
bytea *
cf_gram_state(const float *F, int64 rows, int k, int stride)
{
	CfSums	   *s = sums_new(SUMS_GRAM, k);

	for (int64 r = 0; r < rows; r++)
	{
		tri_add(s->sum, F + (Size) r * stride, k, 1.0f);
		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	s->n = rows;
	return (bytea *) s;
}

/*
 * (partial.h) Solve an iALS row from its cf_ials_sums state and the other
 * side's Gramian, as cf_ials_solve does, into x (k factors); fills *fit
 * with the row's terms of the objective (see CfIalsFit).
 */
void
cf_ials_sums_solve(bytea *sums, bytea *gram, int k, double lambda, double exponent,
				   int64 other_rows, float *x, CfIalsFit *fit)
{
	CfSums	   *s = sums_check(sums, SUMS_IALS);
	CfSums	   *g = sums_check(gram, SUMS_GRAM);
	ArrayType  *a;

	if (s->k != k || g->k != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("The sums have vectors of %d numbers, the Gramian of %d, where %d are needed.",
						   (int) s->k, (int) g->k, k)));
	a = solve_row(s->sum, g->sum, k, lambda, exponent, (double) other_rows + s->weight);
	memcpy(x, ARR_DATA_PTR(a), sizeof(float) * k);
	pfree(a);
	fit->quad = tri_quad(g->sum, x, k);
	fit->loss = fit->quad + (double) s->n + s->weight - 2 * tri_dot_row(s->sum, k, x, k) +
		tri_quad(s->sum, x, k);
	fit->sum_scores = tri_dot_row(s->sum, k + 1, x, k);
	fit->n = s->n;
	fit->weight = s->weight;
}

/*
 * cf_als_solve(sums bytea, regularization float8, regularization_exponent
 * float8) RETURNS real[]: the row's factors and, last, its bias, from its
 * normal equations with ridge regularization * n^exponent (n: its ratings).
 */
Datum
cf_als_solve(PG_FUNCTION_ARGS)
{
	CfSums	   *s = sums_check(PG_GETARG_BYTEA_P(0), SUMS_ALS);

	PG_RETURN_ARRAYTYPE_P(solve_row(s->sum, NULL, s->k + 1, PG_GETARG_FLOAT8(1),
									PG_GETARG_FLOAT8(2), (double) s->n));
}

/*
 * cf_ials_solve(sums bytea, gram bytea, regularization float8,
 * regularization_exponent float8, other_rows bigint) RETURNS real[]: an
 * iALS row's factors from its cf_ials_sums and the other side's Gramian
 * (cf_gram over all its vectors), with ridge regularization * (other_rows
 * + sum of alpha r)^exponent, as cf_train's iALS.
 */
Datum
cf_ials_solve(PG_FUNCTION_ARGS)
{
	CfSums	   *s = sums_check(PG_GETARG_BYTEA_P(0), SUMS_IALS);
	CfSums	   *g = sums_check(PG_GETARG_BYTEA_P(1), SUMS_GRAM);
	int64		rows = PG_GETARG_INT64(4);

	if (rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"other_rows\" must be positive"),
				 errdetail("The value given was " INT64_FORMAT ".", rows)));
	if (g->k != s->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("The sums have vectors of %d numbers, the Gramian of %d.",
						   (int) s->k, (int) g->k)));
	PG_RETURN_ARRAYTYPE_P(solve_row(s->sum, g->sum, s->k, PG_GETARG_FLOAT8(2),
									PG_GETARG_FLOAT8(3), (double) rows + s->weight));
}

/*
 * The other side's vectors of a rated solve: ids (bigint[], ascending) and
 * a real[] of as many rows of `width` numbers (2-D), checked.  Whether the
 * ids ascend is checked once per array the call site sees (fn_extra keeps
 * the address of the last one checked): the same items come with every
 * row of a statement, and an array that takes the place of another at
 * its address unchecked can only give wrong sums, as the lookups are
 * binary searches, in bounds whatever the ids.
 */
typedef struct RatedSide
{
	const int64 *ids;
	const float *v;
	int			n;
	int			width;
} RatedSide;

/* The other side of a rated solve from its two arguments; width: its columns' range. */
static void
rated_side(FunctionCallInfo fcinfo, int min_width, int max_width, RatedSide *side)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *m = PG_GETARG_ARRAYTYPE_P(1);

	if (ARR_NDIM(ids) != 1 || ARR_HASNULL(ids) || ARR_ELEMTYPE(ids) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"item_ids\" must be a one-dimensional bigint array without nulls")));
	if (ARR_NDIM(m) != 2 || ARR_HASNULL(m) || ARR_ELEMTYPE(m) != FLOAT4OID ||
		ARR_DIMS(m)[0] != ARR_DIMS(ids)[0] ||
		ARR_DIMS(m)[1] < min_width || ARR_DIMS(m)[1] > max_width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"item_vectors\" must be a two-dimensional real array of a row per item id without nulls"),
				 errdetail("Its rows must have %d to %d numbers.", min_width, max_width)));
	side->ids = (const int64 *) ARR_DATA_PTR(ids);
	side->v = (const float *) ARR_DATA_PTR(m);
	side->n = ARR_DIMS(ids)[0];
	side->width = ARR_DIMS(m)[1];
	if (fcinfo->flinfo->fn_extra != (void *) ids)
	{
		for (int j = 1; j < side->n; j++)
			if (side->ids[j] <= side->ids[j - 1])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("argument \"item_ids\" must be in ascending order without duplicates")));
		fcinfo->flinfo->fn_extra = (void *) ids;
	}
}

/* The rated items (bigint[]) and their values (real[]) of a row, checked. */
static int
rated_pairs(FunctionCallInfo fcinfo, const int64 **items, const float **values)
{
	ArrayType  *r = PG_GETARG_ARRAYTYPE_P(2);
	ArrayType  *v = PG_GETARG_ARRAYTYPE_P(3);
	int			n = ArrayGetNItems(ARR_NDIM(r), ARR_DIMS(r));

	if (ARR_NDIM(r) > 1 || ARR_HASNULL(r) || ARR_ELEMTYPE(r) != INT8OID ||
		ARR_NDIM(v) > 1 || ARR_HASNULL(v) || ARR_ELEMTYPE(v) != FLOAT4OID ||
		ArrayGetNItems(ARR_NDIM(v), ARR_DIMS(v)) != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a row's rated items and their values must be one-dimensional arrays of one length without nulls")));
	*items = (const int64 *) ARR_DATA_PTR(r);
	*values = (const float *) ARR_DATA_PTR(v);
	return n;
}

/*
 * cf_als_solve_rated(item_ids bigint[], item_vectors real[], rated bigint[],
 * ratings real[], mean float8, regularization float8,
 * regularization_exponent float8) RETURNS real[]: cf_als_solve of
 * cf_als_sums over a row's ratings, given as arrays (the items rated and
 * the ratings) with the other side's vectors (factors then bias, a row per
 * id); rated items not among the ids are left out, and a row without any
 * gives NULL.  cf_train on Citus solves its users so from the user table.
 */
Datum
cf_als_solve_rated(PG_FUNCTION_ARGS)
{
	RatedSide	side;
	const int64 *items;
	const float *values;
	int			n;
	int			k;
	CfSums	   *s;

	rated_side(fcinfo, 2, CF_MAX_FACTORS + 1, &side);
	n = rated_pairs(fcinfo, &items, &values);
	k = side.width - 1;
	s = sums_new(SUMS_ALS, k);
	for (int e = 0; e < n; e++)
	{
		int			j = cf_find_int64(side.ids, side.n, items[e]);

		if (j >= 0)
		{
			const float *f = side.v + (Size) j * side.width;

			als_add(s, f, f[k], values[e], PG_GETARG_FLOAT8(4));
		}
	}
	if (s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(solve_row(s->sum, NULL, k + 1, PG_GETARG_FLOAT8(5),
									PG_GETARG_FLOAT8(6), (double) s->n));
}

/*
 * cf_ials_solve_rated(item_ids bigint[], item_vectors real[], rated
 * bigint[], amounts real[], alpha float8, gram bytea, regularization float8,
 * regularization_exponent float8, other_rows bigint) RETURNS real[]:
 * cf_ials_solve of cf_ials_sums over a row's pairs, given as arrays, with
 * the other side's vectors (a row per id) and Gramian; pairs whose item is
 * not among the ids or whose amount is not positive are left out, and a
 * row without any gives NULL.
 */
Datum
cf_ials_solve_rated(PG_FUNCTION_ARGS)
{
	RatedSide	side;
	const int64 *items;
	const float *values;
	int			n;
	int			k;
	CfSums	   *s;
	CfSums	   *g;
	double		alpha = PG_GETARG_FLOAT8(4);
	int64		rows = PG_GETARG_INT64(8);

	rated_side(fcinfo, 1, CF_MAX_FACTORS, &side);
	n = rated_pairs(fcinfo, &items, &values);
	k = side.width;
	g = sums_check(PG_GETARG_BYTEA_P(5), SUMS_GRAM);
	if (g->k != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("factor vectors of different lengths in one sum"),
				 errdetail("The items have vectors of %d numbers, the Gramian of %d.", k, (int) g->k)));
	if (rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"other_rows\" must be positive"),
				 errdetail("The value given was " INT64_FORMAT ".", rows)));
	s = sums_new(SUMS_IALS, k);
	for (int e = 0; e < n; e++)
	{
		int			j = cf_find_int64(side.ids, side.n, items[e]);

		if (j >= 0 && values[e] > 0)
			ials_add(s, side.v + (Size) j * side.width, alpha * values[e]);
	}
	if (s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(solve_row(s->sum, g->sum, k, PG_GETARG_FLOAT8(6),
									PG_GETARG_FLOAT8(7), (double) rows + s->weight));
}
