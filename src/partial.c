/*-------------------------------------------------------------------------
 *
 * partial.c
 *	  An ALS half-step as SQL: the sums of a row's normal equations as an
 *	  aggregate that can be computed in parts and combined, and the solve.
 *
 * ALS (als.c) solves each row of one side, with the other side fixed, from
 * the normal equations of its ratings: with a_e = (f_e, 1) for the other
 * side's vector f_e and bias of each rating e, and the target
 * c_e = r_e - mu - bias_e,
 *
 *		(sum_e a_e a_e^T + lambda n^nu I) x = sum_e c_e a_e
 *
 * The sums are additive over any split of a row's ratings, so they can be
 * formed where the ratings lie and added up elsewhere: cf_als_sums is an
 * aggregate over (f_e, bias_e, r_e, mu) whose state is those sums (with n
 * and sum c_e^2), with a combine function, so PostgreSQL's parallel query
 * computes it in parts on parallel workers, and Citus, for a group that is
 * not its distribution column, on each shard (partial aggregation), adding
 * the parts on the coordinator.  cf_als_solve then gives the row's
 * (x, bias).  The state is bytea, not internal: Citus ships the parts of
 * custom aggregates only for states with a text form (and bytea's is
 * compact).
 *
 * State: a CfSums header, then the lower triangle of sum g g^T for
 * g = (f_e, 1, c_e), k + 2 numbers, packed by rows, in single precision
 * as ALS's own sums are (als_solve.c); the solve is in double.  At k = 32
 * a state is 2.4 kB (4.8 kB as Citus ships it, in bytea's hex form).
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
#include "train.h"
#include "solve.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_als_sums_accum);
PG_FUNCTION_INFO_V1(cf_sums_combine);
PG_FUNCTION_INFO_V1(cf_als_solve);

/* The header of a state; the packed triangle follows. */
typedef struct CfSums
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		k;				/* factors */
	int64		n;				/* ratings summed */
	float		sum[FLEXIBLE_ARRAY_MEMBER];	/* (k + 2)(k + 3) / 2 */
} CfSums;

/* Numbers of the packed triangle for k factors. */
static Size
sums_length(int k)
{
	return (Size) (k + 2) * (k + 3) / 2;
}

/* Where row i of the packed triangle starts. */
static inline Size
tri_row(int i)
{
	return (Size) i * (i + 1) / 2;
}

/* A zeroed state for k factors, in the current memory context. */
static CfSums *
sums_new(int k)
{
	Size		size = offsetof(CfSums, sum) + sums_length(k) * sizeof(float);
	CfSums	   *s = palloc0(size);

	SET_VARSIZE(s, size);
	s->k = k;
	return s;
}

/* The state of a bytea datum, checked: a corrupt part is an error, not a read past its end. */
static CfSums *
sums_check(bytea *b)
{
	CfSums	   *s = (CfSums *) b;

	if (VARSIZE(b) < offsetof(CfSums, sum) || s->k < 1 || s->k > CF_MAX_FACTORS ||
		VARSIZE(b) != offsetof(CfSums, sum) + sums_length(s->k) * sizeof(float) || s->n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid partial sums of a half-step"),
				 errdetail("The value is not a state of cf_als_sums.")));
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
 * cf_als_sums_accum(state bytea, factors real[], bias real, rating float8,
 *					 mean float8): the transition function of cf_als_sums.
 * A rating with a NULL argument is left out.  In an aggregate the state is
 * updated in place.
 */
Datum
cf_als_sums_accum(PG_FUNCTION_ARGS)
{
	CfSums	   *s = PG_ARGISNULL(0) ? NULL : (CfSums *) PG_GETARG_BYTEA_P(0);
	ArrayType  *a;
	const float *f;
	int			k;
	float		g[CF_MAX_FACTORS + 2];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s);
	}
	a = PG_GETARG_ARRAYTYPE_P(1);
	f = vector_arg(a, &k);
	if (s == NULL)
		s = sums_new(k);
	else
	{
		sums_check((bytea *) s);
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
	}

	for (int c = 0; c < k; c++)
		g[c] = f[c];
	g[k] = 1;
	g[k + 1] = (float) (PG_GETARG_FLOAT8(3) - PG_GETARG_FLOAT8(4) - PG_GETARG_FLOAT4(2));
	for (int i = 0; i < k + 2; i++)
	{
		float	   *restrict row = s->sum + tri_row(i);
		float		gi = g[i];

		for (int j = 0; j <= i; j++)
			row[j] += gi * g[j];
	}
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
		PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P(0));
	}
	t = sums_check(PG_GETARG_BYTEA_P(1));
	inagg = AggCheckCallContext(fcinfo, &aggcontext);
	if (PG_ARGISNULL(0))
	{
		/* the first part: a copy, in the aggregate's context */
		s = MemoryContextAlloc(inagg ? aggcontext : CurrentMemoryContext, VARSIZE(t));
		memcpy(s, t, VARSIZE(t));
		PG_RETURN_BYTEA_P(s);
	}
	s = sums_check(PG_GETARG_BYTEA_P(0));
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
	len = sums_length(s->k);
	for (Size j = 0; j < len; j++)
		s->sum[j] += t->sum[j];
	s->n += t->n;
	PG_RETURN_BYTEA_P(s);
}

/*
 * cf_als_solve(sums bytea, regularization float8, regularization_exponent
 * float8) RETURNS real[]: the row's factors and, last, its bias, from its
 * normal equations with ridge regularization * n^exponent (n: its ratings).
 */
Datum
cf_als_solve(PG_FUNCTION_ARGS)
{
	CfSums	   *s = sums_check(PG_GETARG_BYTEA_P(0));
	double		lambda = PG_GETARG_FLOAT8(1);
	double		exponent = PG_GETARG_FLOAT8(2);
	int			k = s->k;
	int			d = k + 1;
	double	   *M = palloc(sizeof(double) * d * d);
	double	   *b = palloc(sizeof(double) * d);
	float	   *x = palloc(sizeof(float) * d);
	double		ridge;
	double		trace = 0;
	bool		finite = true;
	int			info = 0;
	int			one = 1;

	cf_check_float_arg("regularization", lambda, 0, false, 1000);
	cf_check_float_arg("regularization_exponent", exponent, 0, false, 1);
	ridge = lambda * pow((double) s->n, exponent);

	/* the d x d matrix in full (column-major), b from the triangle's last row */
	for (int i = 0; i < d; i++)
	{
		for (int j = 0; j <= i; j++)
			M[(Size) j * d + i] = M[(Size) i * d + j] = s->sum[tri_row(i) + j];
		b[i] = s->sum[tri_row(d) + i];
		trace += M[(Size) i * d + i];
		finite = finite && isfinite(b[i]);
	}
	if (!finite || !isfinite(trace))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the normal equations of a row are not finite"),
				 errdetail("A factor, bias or rating summed was infinite or NaN, or the sums overflowed.")));
	for (int i = 0; i < d; i++)
		M[(Size) i * d + i] += ridge;
	dpotrf_("L", &d, M, &d, &info);
	if (info != 0)
	{
		/* not positive definite (ridge 0, too few ratings): a tiny ridge once more */
		double		retry = cf_retry_ridge(ridge, trace, d);

		for (int i = 0; i < d; i++)
		{
			for (int j = 0; j <= i; j++)
				M[(Size) j * d + i] = M[(Size) i * d + j] = s->sum[tri_row(i) + j];
			M[(Size) i * d + i] += ridge + retry;
		}
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
	{
		Datum	   *elems = palloc(sizeof(Datum) * d);

		for (int i = 0; i < d; i++)
			elems[i] = Float4GetDatum(x[i]);
		PG_RETURN_ARRAYTYPE_P(construct_array(elems, d, FLOAT4OID, sizeof(float4), true,
											  TYPALIGN_INT));
	}
}
