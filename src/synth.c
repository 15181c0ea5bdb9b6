/*-------------------------------------------------------------------------
 *
 * synth.c
 *	  cf_synthetic_ratings(): deterministic ratings from a planted model.
 *
 * For demos, tests and benchmarks without shipping anyone's data.  The
 * planted model has the shape cf learns: a rating is
 *
 *		round(3 + b_u + b_i + p_u . q_i + noise * N(0,1)), clipped to 1..5
 *
 * with b_u ~ N(0, 0.3^2), b_i ~ N(0, 0.5^2) and the entries of factor f
 * (f = 0..k-1) drawn from N(0, c/(f+1)), c chosen so that p_u . q_i has
 * unit variance: a decaying spectrum, as real rating matrices have, so
 * that the first factors carry most of the signal.
 *
 * Which cells are rated: users and items get popularity weights
 * 1/(rank+1)^skew over a random ranking (skew = 0: uniform).  Each user's
 * count is its share of the total, rounded by largest remainder so the
 * counts sum exactly to the total, and capped at the number of items (the
 * excess goes to other users).  A user's items are distinct draws from the
 * item weights.  Everything comes from one generator seeded by the seed,
 * so the same arguments give the same rows, in the same order.
 *
 * Rows are produced one at a time (value-per-call), so the generator's
 * memory is O(users + items), whatever the number of rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "util.h"

PG_FUNCTION_INFO_V1(cf_synthetic_ratings);

typedef struct SynthState
{
	pg_prng_state rng;
	int32		users;
	int32		items;
	int			k;
	double		noise;
	float	   *P;				/* users x k */
	float	   *Q;				/* items x k */
	float	   *bu;
	float	   *bi;
	double	   *item_cdf;		/* cumulative item weights; NULL if uniform */
	int64	   *count;			/* ratings per user */
	int32	   *stamp;			/* stamp[i] == u + 1: item i taken by user u */
	int32	   *chosen;			/* the current user's items */
	int32		nchosen;
	int32		next;			/* next of them to return */
	int32		user;			/* current user */
} SynthState;

/* A random permutation of 0..n-1. */
static int32 *
permutation(pg_prng_state *rng, int32 n)
{
	int32	   *perm = cf_palloc_huge_array(int32, n);

	cf_permute(perm, n, rng);
	return perm;
}

/* Popularity weights 1/(rank+1)^skew over a random ranking, summing to 1. */
static double *
weights(pg_prng_state *rng, int32 n, double skew)
{
	int32	   *rank = permutation(rng, n);
	double	   *w = cf_palloc_huge_array(double, n);
	double		sum = 0;

	for (int32 j = 0; j < n; j++)
		sum += (w[j] = pow(rank[j] + 1.0, -skew));
	for (int32 j = 0; j < n; j++)
		w[j] /= sum;
	pfree(rank);
	return w;
}

/* Index of x in the cumulative weights cdf[0..n), by binary search. */
static int32
draw(const double *cdf, int32 n, double x)
{
	int32		lo = 0;
	int32		hi = n - 1;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (cdf[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Qsort order of users by fractional part, largest first, then index. */
static int
by_fraction(const void *a, const void *b, void *arg)
{
	const double *frac = (const double *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (frac[x] != frac[y])
		return frac[x] > frac[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Ratings per user: shares of the total, exact sum, capped at items. */
static int64 *
user_counts(SynthState *st, int64 total, double skew)
{
	int32		users = st->users;
	double	   *w = weights(&st->rng, users, skew);
	int64	   *count = cf_palloc_huge_array(int64, users);
	int32	   *order = cf_palloc_huge_array(int32, users);
	int64		assigned = 0;
	int64		excess = 0;

	for (int32 u = 0; u < users; u++)
	{
		double		share = w[u] * (double) total;

		count[u] = (int64) floor(share);
		w[u] = share - count[u];	/* now the fractional part */
		assigned += count[u];
		order[u] = u;
	}
	qsort_arg(order, users, sizeof(int32), by_fraction, w);
	for (int32 j = 0; assigned < total; j = (j + 1) % users)
	{
		count[order[j]]++;
		assigned++;
	}

	/* cap at the number of items; hand the excess round-robin to others */
	for (int32 u = 0; u < users; u++)
	{
		if (count[u] > st->items)
		{
			excess += count[u] - st->items;
			count[u] = st->items;
		}
	}
	for (int32 j = 0; excess > 0; j = (j + 1) % users)
	{
		if (count[order[j]] < st->items)
		{
			count[order[j]]++;
			excess--;
		}
	}
	pfree(order);
	pfree(w);
	return count;
}

/* Choose the next user's distinct items into st->chosen. */
static void
choose_items(SynthState *st)
{
	int32		u = st->user;
	int64		want = st->count[u];
	int64		attempts = 0;

	st->nchosen = 0;
	st->next = 0;
	while (st->nchosen < want)
	{
		int32		i;

		if (st->item_cdf != NULL && attempts < 10 * want + 100)
			i = draw(st->item_cdf, st->items, pg_prng_double(&st->rng));
		else
			i = (int32) pg_prng_uint64_range(&st->rng, 0, st->items - 1);
		attempts++;
		if (st->stamp[i] == u + 1)
		{
			/* dense users: walk to the next free item instead of retrying */
			if (attempts > 10 * want + 100)
			{
				while (st->stamp[i] == u + 1)
					i = (i + 1) % st->items;
			}
			else
				continue;
		}
		st->stamp[i] = u + 1;
		st->chosen[st->nchosen++] = i;
	}
}

/* The planted rating of (u, i), with noise. */
static float
rating(SynthState *st, int32 u, int32 i)
{
	const float *p = st->P + (Size) u * st->k;
	const float *q = st->Q + (Size) i * st->k;
	double		x = 3.0 + st->bu[u] + st->bi[i];

	for (int f = 0; f < st->k; f++)
		x += (double) p[f] * q[f];
	x += st->noise * cf_normal(&st->rng);
	x = rint(x);
	return (float) Min(Max(x, 1.0), 5.0);
}

/* Set up the generator from the arguments. */
static SynthState *
synth_init(FunctionCallInfo fcinfo)
{
	SynthState *st = palloc0(sizeof(SynthState));
	int64		total;
	double		skew;
	int64		seed;
	double		norm = 0;

	for (int a = 0; a < 7; a++)
		cf_require_arg(fcinfo, a,
					   (const char *[]) {"users", "items", "ratings", "factors",
						   "noise", "skew", "seed"}[a]);
	st->users = PG_GETARG_INT32(0);
	st->items = PG_GETARG_INT32(1);
	total = PG_GETARG_INT64(2);
	st->k = PG_GETARG_INT32(3);
	st->noise = PG_GETARG_FLOAT8(4);
	skew = PG_GETARG_FLOAT8(5);
	seed = PG_GETARG_INT64(6);

	cf_check_int_arg("users", st->users, 1, 100000000);
	cf_check_int_arg("items", st->items, 1, 100000000);
	cf_check_int_arg("ratings", total, 0, (int64) st->users * st->items);
	cf_check_int_arg("factors", st->k, 1, 1024);
	cf_check_float_arg("noise", st->noise, 0, false, 100);
	cf_check_float_arg("skew", skew, 0, false, 10);

	/*
	 * Memory, as for training: factors, biases and bookkeeping per user
	 * (P, bu, count, w, order) and per item (Q, bi, cdf, rank, stamp, chosen).
	 */
	cf_check_memory(cf_add_size(cf_mul_size(st->users, cf_add_size(cf_mul_size(st->k, sizeof(float)), 28)),
								cf_mul_size(st->items, cf_add_size(cf_mul_size(st->k, sizeof(float)), 28))),
					"generating the ratings");

	pg_prng_seed(&st->rng, (uint64) seed);
	st->P = cf_palloc_huge_array(float, cf_mul_size(st->users, st->k));
	st->Q = cf_palloc_huge_array(float, cf_mul_size(st->items, st->k));
	st->bu = cf_palloc_huge_array(float, st->users);
	st->bi = cf_palloc_huge_array(float, st->items);
	/* factor f's entries have variance c/(f+1), c making var(p.q) = 1 */
	for (int f = 0; f < st->k; f++)
		norm += 1.0 / ((f + 1.0) * (f + 1.0));
	for (Size j = 0; j < (Size) st->users * st->k; j++)
		st->P[j] = (float) (sqrt(1.0 / (sqrt(norm) * (j % st->k + 1))) * cf_normal(&st->rng));
	for (Size j = 0; j < (Size) st->items * st->k; j++)
		st->Q[j] = (float) (sqrt(1.0 / (sqrt(norm) * (j % st->k + 1))) * cf_normal(&st->rng));
	for (int32 u = 0; u < st->users; u++)
		st->bu[u] = (float) (0.3 * cf_normal(&st->rng));
	for (int32 i = 0; i < st->items; i++)
		st->bi[i] = (float) (0.5 * cf_normal(&st->rng));

	if (skew > 0)
	{
		st->item_cdf = weights(&st->rng, st->items, skew);
		for (int32 i = 1; i < st->items; i++)
			st->item_cdf[i] += st->item_cdf[i - 1];
	}
	st->count = user_counts(st, total, skew);
	st->stamp = cf_palloc0_huge_array(int32, st->items);
	st->chosen = cf_palloc_huge_array(int32, st->items);
	st->user = -1;
	return st;
}

/*
 * cf_synthetic_ratings(users int, items int, ratings bigint, factors int,
 *		noise float8, skew float8, seed bigint)
 *		RETURNS TABLE(user_id bigint, item_id bigint, rating real)
 */
Datum
cf_synthetic_ratings(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SynthState *st;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcxt;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = synth_init(fcinfo);
		MemoryContextSwitchTo(oldcxt);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = (SynthState *) funcctx->user_fctx;

	while (st->next >= st->nchosen)
	{
		if (st->user + 1 >= st->users)
			SRF_RETURN_DONE(funcctx);
		st->user++;
		choose_items(st);
		CHECK_FOR_INTERRUPTS();
	}

	{
		int32		i = st->chosen[st->next++];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum((int64) st->user + 1);
		values[1] = Int64GetDatum((int64) i + 1);
		values[2] = Float4GetDatum(rating(st, st->user, i));
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc,
																   values, nulls)));
	}
}
